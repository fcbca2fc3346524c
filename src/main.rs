use clap::Parser;

fn main() {
    // libgit2 re-hashes every object it reads by default; git does not, and
    // verify reads the changed trees of every commit (a third of its time
    // on a 10,000-commit history). Object ids are still compared as usual.
    // A decision of this program for its process, not of the library.
    git2::opts::strict_hash_verification(false);
    let cli = ipr::cli::Cli::parse();
    if let Err(e) = ipr::cli::run(cli) {
        std::process::exit(ipr::cli::exit::report(&e));
    }
}
