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

/// `ipr.1` and one `ipr-<command>.1` per subcommand (and
/// `ipr-<command>-<subcommand>.1` for nested ones such as `plan analyze`),
/// for `man/`.
pub fn pages() -> Vec<(String, String)> {
    let cmd = super::command();
    let mut out = vec![("ipr.1".to_string(), page())];
    for sub in cmd.get_subcommands() {
        let name = format!("ipr-{}", sub.get_name());
        out.push(render(sub, &name));
        for nested in sub.get_subcommands() {
            out.push(render(nested, &format!("{name}-{}", nested.get_name())));
        }
    }
    out
}

fn render(cmd: &clap::Command, name: &str) -> (String, String) {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(name.to_string()))
        .render(&mut buf)
        .expect("rendering to memory cannot fail");
    (
        format!("{name}.1"),
        String::from_utf8(buf).expect("the man page is UTF-8"),
    )
}
