//! giayto-server: the issuance side of giayto. Agencies publish citizens' documents through
//! an authenticated API; wallets fetch them as SD-JWT VCs by OpenID4VCI (pre-authorized code
//! flow); verifiers read the JWKS, status lists, the signed trust list and type metadata.
//!
//! [`http::app`] builds the router; [`server::run`] serves it; `main.rs` only wires the
//! configuration and the admin subcommands.

pub mod config;
pub mod data_files;
pub mod db;
pub mod db_conns;
pub mod demo;
pub mod domain;
pub mod http;
pub mod listener;
pub mod offer;
pub mod qr;
pub mod secrets;
pub mod server;
pub mod signer;
pub mod start_banner;
pub mod unlock;

pub use http::{AppState, admin_app, app};
