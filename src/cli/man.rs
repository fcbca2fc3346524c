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
