//! `handoff broker`: the embedded broker as its own process, for set-ups
//! that run the services separately on one machine.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use handoff_bus::embedded::EmbeddedBroker;

use crate::shutdown;

#[derive(Args, Debug)]
pub struct BrokerArgs {
    /// Where the broker keeps its SQLite file (broker.db).
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9092)]
    pub port: u16,
}

pub async fn run(args: BrokerArgs) -> Result<ExitCode> {
    let stop = shutdown::on_signal();
    let broker = EmbeddedBroker::start(&args.data_dir, args.port).await?;
    println!(
        "broker    {} (embedded Tansu, {})",
        broker.brokers,
        broker.storage_file.display()
    );
    println!("Ctrl-C to stop.");
    stop.cancelled().await;
    broker.stop().await;
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}
