//! One module per subcommand.

pub mod bench;
#[cfg(feature = "embedded-broker")]
pub mod broker;
pub mod export;
pub mod gen;
pub mod ingest;
pub mod ingest_pending;
pub mod notify;
pub mod registry;
pub mod replay;
pub mod report;
pub mod schemas;
pub mod token;
pub mod topics;
pub mod up;
pub mod views;
