//! ipr: human-approved infrastructure and production promotions, kept in git.
//!
//! Layers, top to bottom: `cli` (one file per command) → `workflow` and
//! `policy` (pure rules) → `store` (git2) and `runner`. `model` and `config`
//! are the data every layer shares.

pub mod action;
pub mod approvals;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod draft;
pub mod drift;
pub mod error;
pub mod events;
pub mod hooks;
pub mod llm;
pub mod model;
pub mod notify;
pub mod outbox;
pub mod plan;
pub mod plan_request;
pub mod policy;
pub mod query;
pub mod recover;
pub mod rego;
pub mod request;
pub mod runner;
pub mod secrets;
pub mod server;
pub mod session;
pub mod store;
pub mod sync;
pub mod text;
pub mod trust;
pub mod verify;
pub mod violation;
pub mod waiver;
pub mod workflow;

pub use error::{Error, Kind, Result};
