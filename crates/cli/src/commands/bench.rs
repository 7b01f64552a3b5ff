//! `handoff bench`: the benchmarks, written to BENCHMARKS.md. `--quick`
//! is CI's smoke run: everything runs, on little data, in minutes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use handoff_bench::machine::Machine;
use handoff_bench::markdown::{render, Results};
use handoff_bench::{codec, Peers, Scale};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A smoke run on little data (for CI: it checks that everything runs,
    /// not the numbers).
    #[arg(long)]
    pub quick: bool,
    /// Where the results are written.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// The Python with fastavro and confluent-kafka (the peers).
    #[arg(long, env = "HANDOFF_BENCH_PYTHON", default_value = ".venv/bin/python")]
    pub python: PathBuf,
    /// The peers' scripts.
    #[arg(long, default_value = "crates/bench/peers")]
    pub peers: PathBuf,
}

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    let scale = if args.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let peers = Peers {
        python: args.python.clone(),
        dir: args.peers.clone(),
    };
    let command = std::iter::once("handoff".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("bench: codec (Handoff against fastavro)");
    let codec = tokio::task::spawn_blocking(move || codec::run(scale, &peers))
        .await
        .expect("the codec bench does not panic")?;
    let results = Results {
        machine: Machine::describe(&args.python),
        command,
        taken_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        codec: Some(codec),
    };
    std::fs::write(&args.out, render(&results))
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("bench: results in {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
