//! `handoff broker`: the embedded broker as its own process, for set-ups
//! that run the services separately on one machine; `handoff broker
//! migrate` carries a data directory of an earlier Handoff (its broker on
//! SQLite, or Tansu 0.6) over to the log engine.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use handoff_bus::embedded::{sqlite_engine, tansu_file, EmbeddedBroker};

use crate::shutdown;

#[derive(Args, Debug)]
pub struct BrokerArgs {
    #[command(subcommand)]
    pub action: Option<BrokerAction>,
    /// Where the broker keeps its files (broker/, or broker.db for the
    /// SQLite engine).
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9092)]
    pub port: u16,
    #[command(flatten)]
    pub storage: crate::broker_storage_args::BrokerStorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum BrokerAction {
    /// Carry an earlier Handoff's broker data over to the log engine,
    /// every record at its offset (so the views' and notifier's stores
    /// stay valid): a broker.db of the SQLite engine (kept as
    /// broker.sqlite-engine.db), or of the Tansu 0.6 broker (first carried
    /// to the SQLite engine's layout, kept as broker.tansu-0.6.db). Stop
    /// every Handoff process on the directory first.
    Migrate {
        /// The data directory holding the old broker.db.
        #[arg(long, env = "HANDOFF_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

pub async fn run(args: BrokerArgs) -> Result<ExitCode> {
    if let Some(BrokerAction::Migrate { data_dir }) = args.action {
        migrate(&data_dir).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let stop = shutdown::on_signal();
    let engine = args.storage.engine();
    let broker = EmbeddedBroker::start_with(&args.data_dir, args.port, engine).await?;
    println!(
        "broker    {} (embedded, {}, {})",
        broker.brokers,
        crate::broker_storage_args::describe(engine),
        broker.storage_file.display()
    );
    println!("Ctrl-C to stop.");
    stop.cancelled().await;
    broker.stop().await;
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}

async fn migrate(data_dir: &std::path::Path) -> Result<()> {
    if tansu_file::is_tansu_file(&data_dir.join("broker.db")).await? {
        let migrated = tansu_file::migrate(data_dir).await?;
        println!(
            "migrated  {} records in {} partitions of {} topics from Tansu 0.6's layout; the old file is {}",
            migrated.records,
            migrated.partitions,
            migrated.topics,
            data_dir.join(tansu_file::KEPT_AS).display()
        );
    }
    let migrated = sqlite_engine::migrate(data_dir).await?;
    println!(
        "migrated  {} records in {} partitions of {} topics into the log engine, {}; the old file is {}",
        migrated.records,
        migrated.partitions,
        migrated.topics,
        data_dir.join("broker").display(),
        data_dir.join(sqlite_engine::KEPT_AS).display()
    );
    Ok(())
}
