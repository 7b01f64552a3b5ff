//! `handoff`: one binary for every Handoff service and tool.

mod api_limits;
#[cfg(feature = "embedded-broker")]
mod broker_storage_args;
mod commands;
mod demo;
mod demo_tokens;
mod health;
mod http_server;
mod kafka_args;
mod logging;
mod progress;
mod shutdown;

use clap::{Parser, Subcommand};

/// Handoff: the interagency event bus for unaccompanied children's cases
/// (ICE, HHS ORR, DOJ EOIR).
#[derive(Parser)]
#[command(name = "handoff", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the whole local stack: broker (unless --brokers), registry,
    /// topics, and the health endpoints; stop with Ctrl-C or SIGTERM.
    Up(commands::up::UpArgs),
    /// Run the embedded Kafka-protocol broker alone, or migrate an earlier one's file.
    #[cfg(feature = "embedded-broker")]
    Broker(commands::broker::BrokerArgs),
    /// Run the Confluent-compatible schema registry alone.
    Registry(commands::registry::RegistryArgs),
    /// Check or register the schemas of schemas/ against a registry.
    #[command(subcommand)]
    Schemas(commands::schemas::SchemasCommand),
    /// Create the Handoff topics on a Kafka cluster.
    Topics(commands::topics::TopicsArgs),
    /// Publish an agency's native export (ICE CSV, ORR JSON Lines, EOIR tables).
    Ingest(commands::ingest::IngestArgs),
    /// Build the per-agency views from the agency topics and serve their API.
    Views(commands::views::ViewsArgs),
    /// Run the notifier (rules, outbox, delivery, acknowledgements), or
    /// list its subscribers and dead letters.
    Notify(commands::notify::NotifyArgs),
    /// Rebuild the views from the log into a new store, as of a moment.
    Replay(commands::replay::ReplayArgs),
    /// Export the history as one flat table per event type (Parquet, CSV, JSON lines).
    Export(commands::export::ExportArgs),
    /// The analysts' reports from a views store (text, CSV, JSON, SVG chart).
    Report(commands::report::ReportArgs),
    /// Measure Handoff against the broker's limit and a Python peer; write BENCHMARKS.md.
    Bench(commands::bench::BenchArgs),
    /// Write a synthetic history in the agencies' native layouts, with truth.json.
    Gen(commands::gen::GenArgs),
    /// Manage the agencies' bearer tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The deployment check (scripts/check_deploy.py) gives the compose
    // file's and the manifests' command lines to the real parser this way:
    // every flag, value and combination is validated, nothing runs.
    if std::env::var_os("HANDOFF_PARSE_ONLY").is_some() {
        return std::process::ExitCode::SUCCESS;
    }
    let log_file = match &cli.command {
        Command::Up(args) if !args.verbose && std::env::var_os("RUST_LOG").is_none() => {
            logging::to_file_in(&args.data_dir)
        }
        _ => {
            logging::to_terminal();
            None
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(args) => commands::up::run(args, log_file).await,
            #[cfg(feature = "embedded-broker")]
            Command::Broker(args) => commands::broker::run(args).await,
            Command::Registry(args) => commands::registry::run(args).await,
            Command::Schemas(cmd) => commands::schemas::run(cmd).await,
            Command::Topics(args) => commands::topics::run(args).await,
            Command::Ingest(args) => commands::ingest::run(args).await,
            Command::Views(args) => commands::views::run(args).await,
            Command::Notify(args) => commands::notify::run(args).await,
            Command::Replay(args) => commands::replay::run(args).await,
            Command::Export(args) => commands::export::run(args).await,
            Command::Report(args) => commands::report::run(args).await,
            Command::Bench(args) => commands::bench::run(args).await,
            Command::Gen(args) => commands::gen::run(args),
            Command::Token(cmd) => commands::token::run(cmd),
        }
    });
    // Background tasks (the broker's connections) must not keep the
    // process alive after a clean stop.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause once: most of our errors already
/// quote their cause, so printing the whole chain would repeat it.
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}
