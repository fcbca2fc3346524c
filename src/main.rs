use clap::Parser;

fn main() {
    let cli = ipr::cli::Cli::parse();
    if let Err(e) = ipr::cli::run(cli) {
        eprintln!("error: {}", e.message());
        if let Some(hint) = e.hint() {
            eprintln!("hint: {hint}");
        }
        std::process::exit(e.exit_code());
    }
}
