//! `handoff ingest ice|hhs|doj <path>...`: publish an agency's native
//! export. Prints the account of every record; rejects go to a JSON Lines
//! file; `--strict` makes any reject a failure.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use handoff_adapters::ingest::expand;
use handoff_adapters::watch::{Outcome, WatchConfig};
use handoff_adapters::{
    ingest_files, IngestError, Layout, Ledger, Progress, Publisher, RejectWriter,
};
use handoff_bus::EventProducer;

use crate::kafka_args::{KafkaArgs, RegistryArgs};
use crate::{health, http_server};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgencyArg {
    /// ICE EID/EARM CSV extracts (encounters*.csv, case_actions*.csv).
    Ice,
    /// HHS ORR UC Path JSON Lines (*.jsonl).
    Hhs,
    /// DOJ EOIR CASE tables (A_TblCase, B_TblProceeding, tbl_schedule, tbl_JuvenileHistory).
    Doj,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Whose export this is.
    pub agency: AgencyArg,
    /// Files, or folders whose files are all read.
    #[arg(required_unless_present_any = ["watch", "pending"])]
    pub paths: Vec<PathBuf>,
    /// EOIR only: list the rows waiting for their case's A-number (which
    /// file and line, which case, since when) and publish nothing.
    #[arg(long, conflicts_with_all = ["paths", "watch"])]
    pub pending: bool,
    /// Watch this drop folder instead: each file is published once it has
    /// stopped changing, then moved to done/ (or failed/ with a .reason).
    #[arg(long, conflicts_with = "paths")]
    pub watch: Option<PathBuf>,
    /// With --watch: serve /healthz and /readyz here, for container and
    /// Kubernetes probes.
    #[arg(long, requires = "watch")]
    pub http_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// EOIR only: the public FOIA layout (no A-numbers; events are marked
    /// statistical and never notify).
    #[arg(long)]
    pub public: bool,
    /// Exit non-zero if any record is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Where rejected records go (JSON Lines). Default: rejects-<agency>.jsonl.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The ledger of published event ids (lets a re-run skip what is on the
    /// bus already).
    #[arg(
        long,
        env = "HANDOFF_INGEST_LEDGER",
        default_value = "data/ingest-ledger.db"
    )]
    pub ledger: PathBuf,
    /// Also write the account as JSON (per file: records, published,
    /// duplicates, no_event, pending_link, rejected by reason, not_read,
    /// events_published, failed), also when the run ends early.
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub quiet: bool,
}

impl AgencyArg {
    fn layout(self, public: bool) -> Layout {
        match self {
            AgencyArg::Ice => Layout::Ice,
            AgencyArg::Hhs => Layout::Hhs,
            AgencyArg::Doj => Layout::Doj { public },
        }
    }

    fn name(self) -> &'static str {
        match self {
            AgencyArg::Ice => "ice",
            AgencyArg::Hhs => "hhs",
            AgencyArg::Doj => "doj",
        }
    }
}

pub async fn run(args: IngestArgs) -> Result<ExitCode> {
    if args.public && !matches!(args.agency, AgencyArg::Doj) {
        anyhow::bail!(
            "--public applies to EOIR's FOIA layout only: use it with `handoff ingest doj`"
        );
    }
    if args.pending {
        if !matches!(args.agency, AgencyArg::Doj) {
            anyhow::bail!("--pending lists EOIR rows waiting for their case: use it with `handoff ingest doj`");
        }
        return crate::commands::ingest_pending::run(&args.ledger).await;
    }
    let kafka = args.kafka.or_local()?;
    let codec = args.registry.codec();
    let producer = EventProducer::new(&kafka, codec)?;
    if let Some(dir) = &args.watch {
        return watch(&args, dir, &kafka, producer).await;
    }
    let files = expand(&args.paths).context("listing the input")?;
    let total_bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let ledger = Ledger::open(&args.ledger).await?;
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("rejects-{}.jsonl", args.agency.name())));
    let rejects = RejectWriter::create(&rejects_path)
        .with_context(|| format!("cannot create the rejects file {}", rejects_path.display()))?;
    let mut publisher = Publisher::new(producer, ledger, rejects);
    let mut progress = Progress::new(total_bytes, !args.quiet);
    let stop = crate::shutdown::on_signal();
    let result = ingest_files(
        args.agency.layout(args.public),
        &files,
        &mut publisher,
        &mut progress,
        &stop,
    )
    .await;
    progress.finish();
    let finished = match result {
        Ok(()) => publisher.finish().await,
        Err(e) => Err(e),
    };
    let summary = match finished {
        Ok(summary) => summary,
        Err(e) => {
            let stopped = matches!(e, IngestError::Stopped);
            let account = publisher.account_so_far().await;
            eprintln!(
                "account when the run ended (published = acknowledged; not read = publish again by re-running):\n{account}"
            );
            if let Some(path) = &args.summary_json {
                write_summary(path, account)?;
            }
            if stopped {
                eprintln!("{e}");
                return Ok(ExitCode::from(130));
            }
            return Err(e.into());
        }
    };
    println!("{summary}");
    if let Some(path) = &args.summary_json {
        write_summary(path, &summary)?;
    }
    let rejected = summary.total().rejected_total();
    if rejected > 0 {
        println!("rejected records are in {}", rejects_path.display());
    }
    let failed = summary.failed_files().count();
    if failed > 0 {
        eprintln!("{failed} file(s) could not be read (FAILED above); the others were ingested");
        return Ok(ExitCode::from(1));
    }
    if args.strict && rejected > 0 {
        eprintln!("--strict: {rejected} record(s) rejected");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_summary(path: &std::path::Path, summary: &handoff_adapters::Summary) -> Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(summary)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

async fn watch(
    args: &IngestArgs,
    dir: &std::path::Path,
    kafka: &handoff_bus::KafkaConfig,
    producer: EventProducer,
) -> Result<ExitCode> {
    let mut config = WatchConfig::new(
        dir.to_owned(),
        args.agency.layout(args.public),
        args.ledger.clone(),
    );
    config.strict = args.strict;
    let stop = crate::shutdown::on_signal();
    let server = match args.http_listen {
        Some(listen) => {
            let app =
                handoff_http::app(health::router(kafka, &args.registry.registry_url)?, |_| {});
            let (address, task) = http_server::serve(app, listen, stop.child_token()).await?;
            println!("http      http://{address} (/healthz, /readyz)");
            Some(task)
        }
        None => None,
    };
    println!(
        "watching {} for {} exports; Ctrl-C to stop",
        dir.display(),
        args.agency.name()
    );
    handoff_adapters::watch::watch(&config, producer, stop.clone(), |outcome| match outcome {
        Outcome::Done(name, summary) => {
            let t = summary.total();
            println!(
                "done    {name}: {} records, {} published, {} duplicate, {} no event, {} pending, {} rejected",
                t.records,
                t.published,
                t.duplicates,
                t.no_event,
                t.pending_link,
                t.rejected_total()
            );
            for (from, r) in &summary.released {
                println!(
                    "        {} waiting row(s) of {from} taken up: {} published, {} duplicate, {} rejected",
                    r.records,
                    r.published,
                    r.duplicates,
                    r.rejected_total()
                );
            }
        }
        Outcome::Failed(name, reason) => println!("failed  {name}: {reason}"),
    })
    .await
    .with_context(|| format!("watching {}", dir.display()))?;
    stop.cancel();
    if let Some(task) = server {
        let _ = task.await;
    }
    Ok(ExitCode::SUCCESS)
}
