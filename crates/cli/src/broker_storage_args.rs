//! How the embedded broker stores what it is sent: `up` and `broker`
//! take the same two options.

use clap::{Args, ValueEnum};
use handoff_bus::embedded::{Engine, Fsync};

#[derive(Args, Debug, Clone)]
pub struct BrokerStorageArgs {
    /// The embedded broker's storage engine: `log` keeps records in
    /// segment files as Kafka does (<data>/broker/); `sqlite` is the
    /// engine of earlier releases (<data>/broker.db, every record a row),
    /// kept for one release.
    #[arg(long, env = "HANDOFF_BROKER_STORAGE", value_enum, default_value_t = StorageChoice::Log)]
    pub broker_storage: StorageChoice,
    /// When the log engine's writes reach the disk: `interval` flushes
    /// once a second, as Kafka leaves it to the OS (a killed process loses
    /// nothing; a power cut may lose the last second); `always` flushes
    /// before each produce is answered.
    #[arg(long, env = "HANDOFF_BROKER_FSYNC", value_enum, default_value_t = FsyncChoice::Interval)]
    pub broker_fsync: FsyncChoice,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageChoice {
    Log,
    Sqlite,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncChoice {
    Always,
    Interval,
}

impl BrokerStorageArgs {
    pub fn engine(&self) -> Engine {
        match self.broker_storage {
            StorageChoice::Sqlite => Engine::Sqlite,
            StorageChoice::Log => Engine::Log {
                fsync: match self.broker_fsync {
                    FsyncChoice::Always => Fsync::Always,
                    FsyncChoice::Interval => Fsync::Interval,
                },
            },
        }
    }
}

/// How `up` and `broker` name the engine and its files in their first
/// lines.
pub fn describe(engine: Engine) -> &'static str {
    match engine {
        Engine::Log {
            fsync: Fsync::Always,
        } => "log engine, fsync always",
        Engine::Log {
            fsync: Fsync::Interval,
        } => "log engine, fsync every second",
        Engine::Sqlite => "SQLite engine",
    }
}
