//! The committed completions and man pages match the CLI definitions.
//! Regenerate them with `IPR_UPDATE_DOCS=1 cargo test --test core docs`.

use std::path::Path;

fn check(path: &str, fresh: &str) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("IPR_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        committed == fresh,
        "{path} is stale; run `IPR_UPDATE_DOCS=1 cargo test --test core docs` and commit it"
    );
}

#[test]
fn completions_are_current() {
    use clap_complete::Shell;
    for (shell, path) in [
        (Shell::Bash, "completions/ipr.bash"),
        (Shell::Zsh, "completions/_ipr"),
        (Shell::Fish, "completions/ipr.fish"),
    ] {
        check(path, &ipr::cli::completions::script(shell));
    }
}

#[test]
fn man_pages_are_current() {
    for (name, page) in ipr::cli::man::pages() {
        check(&format!("man/{name}"), &page);
    }
}
