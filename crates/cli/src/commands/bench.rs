//! `handoff bench`: the benchmarks, written to BENCHMARKS.md. `--quick`
//! is CI's smoke run: everything runs, on little data, in minutes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use handoff_bench::machine::Machine;
use handoff_bench::markdown::render;
use handoff_bench::results::{Invocation, Latency, Measured, Results};
use handoff_bench::scale::{say, SizeRun};
use handoff_bench::{broker, codec, console, latency, Peers, Scale};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Avro encode and decode against fastavro.
    Codec,
    /// Ingest, catch-up, replay, memory and the scale curve, per size.
    Scale,
    /// FailedToAppear to webhook at steady rates.
    Latency,
    /// The web console's pages, server time per page, at the largest size.
    Console,
    /// The embedded broker's log engine against its SQLite engine: a bare
    /// producer and consumer on a 100,000-child history's records.
    Broker,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A smoke run on little data (for CI: it checks that everything runs,
    /// not the numbers).
    #[arg(long)]
    pub quick: bool,
    /// Where the results are written; their JSON goes beside it (the same
    /// name ending in .json).
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// The Python with fastavro and confluent-kafka (the peers).
    #[arg(long, env = "HANDOFF_BENCH_PYTHON", default_value = ".venv/bin/python")]
    pub python: PathBuf,
    /// The peers' scripts.
    #[arg(long, default_value = "crates/bench/peers")]
    pub peers: PathBuf,
    /// History sizes in children, smallest first; the ratios are taken at
    /// the largest. Default 10000,100000,448820 (--quick: 200).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<u64>,
    /// The PostgreSQL server the replay creates a fresh database on.
    #[arg(
        long,
        env = "HANDOFF_BENCH_POSTGRES",
        default_value = "postgres://handoff:handoff@127.0.0.1:5432/postgres"
    )]
    pub postgres: String,
    /// Only these parts (repeatable, or comma-separated); the others are
    /// kept from the last run's JSON, if it was taken on this hardware.
    /// Default: all.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Where the stacks and histories live while measured (a new temporary
    /// directory by default; the full run needs about 15 GB).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the work directory afterwards (logs of every process).
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    let scale = if args.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let sizes = match (&args.sizes[..], scale) {
        ([], Scale::Quick) => vec![200],
        ([], Scale::Full) => vec![10_000, 100_000, 448_820],
        (given, _) => given.to_vec(),
    };
    let wants = |part| args.only.is_empty() || args.only.contains(&part);
    let peers = Peers {
        python: args.python.clone(),
        dir: args.peers.clone(),
    };
    let bin = std::env::current_exe().context("finding the handoff binary")?;
    let mut work = match &args.work_dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| tempfile::Builder::new().prefix("bench-").tempdir_in(dir))
            .with_context(|| format!("creating a work directory in {}", dir.display())),
        None => tempfile::Builder::new()
            .prefix("handoff-bench-")
            .tempdir()
            .context("creating a work directory"),
    }?;
    if args.keep {
        // Kept even when a measurement fails: its logs say why.
        work.disable_cleanup(true);
        println!("bench: logs and data are kept in {}", work.path().display());
    }
    let command = std::iter::once("handoff".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let json = args.out.with_extension("json");
    let invocation = Invocation::new(command, &[&args.out, &json]);
    let machine = Machine::describe(&args.python);
    let mut results = if args.only.is_empty() {
        Results::new(machine)
    } else {
        Results::previous(&json, machine)
    };
    if wants(Part::Codec) {
        say("codec (Handoff against fastavro)");
        let codec_peers = peers.clone();
        let figures = tokio::task::spawn_blocking(move || codec::run(scale, &codec_peers))
            .await
            .expect("the codec bench does not panic")?;
        results.codec = Some(Measured::now(&invocation, figures));
        write_results(&args.out, &json, &results)?;
    }
    if wants(Part::Latency) {
        let dir = work.path().join("latency");
        let (rates, notify_rss_mb) = latency::run(&bin, &dir, scale).await?;
        results.latency = Some(Measured::now(
            &invocation,
            Latency {
                rates,
                notify_rss_mb,
            },
        ));
        remove_unless_kept(&dir, args.keep);
        write_results(&args.out, &json, &results)?;
    }
    if wants(Part::Broker) {
        let children = match scale {
            Scale::Quick => *sizes.last().expect("at least one size"),
            Scale::Full => broker::CHILDREN,
        };
        let dir = work.path().join("broker");
        let figures = broker::run(&bin, &dir, children).await?;
        results.broker = Some(Measured::now(&invocation, figures));
        remove_unless_kept(&dir, args.keep);
        write_results(&args.out, &json, &results)?;
    }
    if wants(Part::Console) {
        let children = *sizes.last().expect("at least one size");
        let dir = work.path().join("console");
        let figures = console::run(&bin, &dir, children, scale).await?;
        results.console = Some(Measured::now(&invocation, figures));
        remove_unless_kept(&dir, args.keep);
        write_results(&args.out, &json, &results)?;
    }
    if wants(Part::Scale) {
        let mut done = Vec::new();
        for children in sizes {
            let run = SizeRun {
                bin: &bin,
                dir: work.path().join(children.to_string()),
                children,
                postgres: &args.postgres,
                peers: &peers,
            };
            done.push(
                run.measure()
                    .await
                    .with_context(|| format!("measuring {children} children"))?,
            );
            remove_unless_kept(&run.dir, args.keep);
            // Each size's figures are on disk as soon as they are known.
            results.scale = Some(Measured::now(&invocation, done.clone()));
            write_results(&args.out, &json, &results)?;
        }
    }
    write_results(&args.out, &json, &results)?;
    println!(
        "bench: results in {} and {}",
        args.out.display(),
        json.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_results(out: &std::path::Path, json: &std::path::Path, results: &Results) -> Result<()> {
    results.save(json)?;
    std::fs::write(out, render(results)).with_context(|| format!("writing {}", out.display()))
}

/// A size's broker data runs to gigabytes at full scale: gone once its
/// figures are taken, unless `--keep`.
fn remove_unless_kept(dir: &std::path::Path, keep: bool) {
    if !keep {
        let _ = std::fs::remove_dir_all(dir);
    }
}
