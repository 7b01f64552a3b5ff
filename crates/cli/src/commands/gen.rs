//! `handoff gen`: write a synthetic history in the three native layouts
//! plus `truth.json`. Defaults are the OIG's FY2019-2023 scale.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use handoff_gen::{EoirLayout, GenConfig};

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Children to generate (the OIG's FY2019-2023 figure by default).
    #[arg(long, default_value_t = 448_820)]
    pub children: u64,
    /// First encounter date.
    #[arg(long, default_value = "2018-10-01")]
    pub from: NaiveDate,
    /// Last encounter date.
    #[arg(long, default_value = "2023-09-30")]
    pub to: NaiveDate,
    /// The date the exports were taken (default: a year after --to).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Same seed, same history.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Where to write ice/, hhs/, doj/ and truth.json.
    #[arg(long, default_value = "data/gen")]
    pub out: PathBuf,
    /// EOIR's internal feed: `per-table` (ALIEN_NBR on every table) or
    /// `related` (ALIEN_NBR on A_TblCase, some cases' in crosswalk.csv; the
    /// other tables link by IDNCASE).
    #[arg(long, value_enum)]
    pub eoir_layout: Option<EoirLayoutArg>,
    /// A JSON file overriding any parameter (the `config` object of a
    /// truth.json has every one, with its default).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EoirLayoutArg {
    PerTable,
    Related,
}

pub fn run(args: GenArgs) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => serde_json::from_slice::<GenConfig>(
            &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a generator configuration", path.display()))?,
        None => GenConfig::default(),
    };
    config.children = args.children;
    config.from = args.from;
    config.to = args.to;
    config.as_of = args
        .as_of
        .unwrap_or_else(|| args.to + chrono::Duration::days(366));
    config.seed = args.seed;
    if let Some(layout) = args.eoir_layout {
        config.eoir_layout = match layout {
            EoirLayoutArg::PerTable => EoirLayout::PerTable,
            EoirLayoutArg::Related => EoirLayout::Related,
        };
    }

    let meter = crate::progress::Meter::new("gen", Some(config.children), "children");
    let started = Instant::now();
    let truth = handoff_gen::generate(&config, &args.out, |n| meter.set(n))?;
    meter.finish();
    let f = &truth.facts;
    println!(
        "gen: {} children in {:.1} s into {}",
        f.children,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!(
        "     {} released, {} never served an NTA, {} failures to appear ({} children), {} in-absentia orders",
        f.releases, f.released_without_served_nta, f.fta_events, f.fta_children, f.in_absentia_orders
    );
    let records: u64 = truth.files.values().map(|s| s.records).sum();
    println!(
        "     {records} records in {} files; expected counts in {}",
        truth.files.len(),
        args.out.join("truth.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
