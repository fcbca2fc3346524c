//! Git hooks that run `ipr verify`: a pre-commit hook for each clone, which
//! refuses a hand-made commit the CLI would have refused, and a pre-receive
//! hook for the server, which refuses such a push.

use std::path::{Path, PathBuf};

use crate::error::{Error, Remedy, Result};
use crate::store::Store;

/// The line that marks a hook as ipr's, so it can be replaced safely.
pub const MARKER: &str = "# installed by `ipr hooks install`";

/// Quote a string for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The pre-commit hook. It runs `ipr` from `$IPR`, else the binary that
/// installed it, else `ipr` on PATH.
pub fn pre_commit_script(ipr: Option<&Path>) -> String {
    let fallback = ipr
        .map(|p| sh_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "ipr".into());
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Refuse a commit whose staged tickets or .ipr/ changes are not what ipr\n\
         # itself would have committed (same rules as `ipr verify`).\n\
         ipr=${{IPR:-{fallback}}}\n\
         command -v \"$ipr\" >/dev/null 2>&1 || ipr=ipr\n\
         exec \"$ipr\" verify --staged --quiet\n"
    )
}

/// The pre-receive hook for the server: `ipr verify` on each pushed range.
pub fn pre_receive_script() -> String {
    r#"#!/bin/sh
# ipr pre-receive hook: refuse a push whose new commits `ipr verify` rejects.
# Install as hooks/pre-receive in the server's bare repository (ipr on PATH).
# The commits before the push were verified when they were pushed, so only
# the new range is replayed; a new branch is verified from its root. The
# history is the audit trail: rewriting it (a non-fast-forward) is refused.
status=0
while read -r old new ref; do
    case "$ref" in refs/heads/*) ;; *) continue ;; esac
    case "$new" in *[!0]*) ;; *) continue ;; esac      # branch deletion
    case "$old" in
        *[!0]*)
            if git merge-base --is-ancestor "$old" "$new"; then
                ipr verify --since "$old" "$new" || status=1
            else
                echo "ipr: refusing to rewrite the history of $ref (not a fast-forward)" >&2
                status=1
            fi ;;
        *) ipr verify "$new" || status=1 ;;
    esac
done
exit $status
"#
    .to_string()
}

/// Write the pre-commit hook into the repository's hooks directory. An
/// existing hook that ipr did not write is only replaced with `force`.
pub fn install(store: &Store, force: bool) -> Result<PathBuf> {
    let dir = store.hooks_dir()?;
    let path = dir.join("pre-commit");
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.contains(MARKER) && !force => {
            return Err(Error::other(format!(
                "{} exists and was not written by ipr; leaving it alone",
                path.display()
            ))
            .with_remedy(Remedy::HookNotOurs));
        }
        _ => {}
    }
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe().ok();
    crate::store::write_atomic(&path, pre_commit_script(exe.as_deref()).as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}
