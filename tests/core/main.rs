//! Integration tests of the core commands: the real `ipr` binary against
//! real git repositories in temp dirs, cross-checked with the `git` binary.

mod harness;

mod bad_input;
mod cache;
mod commits;
mod crash;
mod create;
mod demo;
mod deploy;
mod docs;
mod hostile;
mod model;
mod notify;
mod org;
mod plans;
mod rbac;
mod snapshots;
mod sync;
mod transitions;
