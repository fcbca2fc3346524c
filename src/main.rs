use clap::Parser;

fn main() {
    let cli = ipr::cli::Cli::parse();
    if let Err(e) = ipr::cli::run(cli) {
        // One line each: an error can quote text from a ticket.
        eprintln!("error: {}", ipr::cli::output::esc(e.message()));
        if let Some(hint) = e.hint() {
            eprintln!("hint: {}", ipr::cli::output::esc(hint));
        }
        std::process::exit(e.exit_code());
    }
}
