//! `ipr man`.

use crate::error::Result;

use super::Ctx;

/// Print the man page (roff): `ipr man | man -l -`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// The man page, rendered from the same definitions as `--help`.
pub fn page() -> String {
    let mut out = Vec::new();
    clap_mangen::Man::new(super::command())
        .render(&mut out)
        .expect("rendering to memory cannot fail");
    String::from_utf8(out).expect("the man page is UTF-8")
}

pub fn run(ctx: &Ctx, _args: Args) -> Result<()> {
    super::only_table(ctx, "man")?;
    super::output::print(&page())
}

/// `ipr.1` and one `ipr-<command>.1` per subcommand, for `man/`.
pub fn pages() -> Vec<(String, String)> {
    let cmd = super::command();
    let mut out = vec![("ipr.1".to_string(), page())];
    for sub in cmd.get_subcommands() {
        let name = format!("ipr-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut buf = Vec::new();
        clap_mangen::Man::new(sub)
            .render(&mut buf)
            .expect("rendering to memory cannot fail");
        out.push((
            format!("{name}.1"),
            String::from_utf8(buf).expect("the man page is UTF-8"),
        ));
    }
    out
}
