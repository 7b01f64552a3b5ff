//! The contract every Handoff HTTP endpoint keeps, in one place so the
//! views, the acknowledgements and HTTP ingest cannot drift apart:
//!
//! - `problem`: every error answer is an RFC 9457 problem.
//! - `uniform`, `limits`: errors axum or a layer produced are made
//!   problems too; a time limit per route (reads, uploads); a panic
//!   answered, not a dropped connection.
//! - `guard`: bearer tokens, and a rate per token (429 with `Retry-After`).
//! - `values`: instants as RFC 3339 with milliseconds, enumerations in
//!   lower case, addresses as one object.
//! - `declared`: a query parameter the operation does not declare is
//!   refused, not ignored.
//! - `doc`: the OpenAPI document's shared parts and its route; `app`: a
//!   service's routes, document and layers together.

pub mod app;
pub mod declared;
pub mod doc;
pub mod guard;
pub mod limits;
pub mod problem;
pub mod uniform;
pub mod values;

pub use app::app;
pub use guard::Guard;
pub use limits::Limits;
pub use problem::{Kind, Problem, PROBLEM_JSON};
pub use values::{AgencyName, PostalAddress, Symbol, Time};
