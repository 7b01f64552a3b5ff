//! `handoff report <name>`: the analysts' reports from a views store, as a
//! text table, CSV or JSON, and a chart where one helps.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use handoff_events::{Catalogue, Timestamp};
use handoff_replay::report::{self, chart, Source};
use handoff_replay::{parse_instant, DayEdge};
use handoff_store::StoreLocation;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// fta-by-fiscal-year, nta-backlog, address-quality, discrepancies or
    /// timeline.
    pub name: String,
    /// The child's A-number, for `timeline`.
    pub a_number: Option<String>,
    /// The views store to read: one `handoff views`/`up` keeps, or one
    /// `handoff replay` built (SQLite path or postgres://...).
    #[arg(long, env = "HANDOFF_STORE", default_value = "data/views.db")]
    pub store: String,
    /// The date the report counts to (a bare date: the end of that day).
    /// Default: the end of the replay's window for a replayed store, else now.
    #[arg(long = "as-of", value_name = "DATE-TIME")]
    pub as_of: Option<String>,
    /// text, csv or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Also draw the report as a bar chart into this SVG file.
    #[arg(long)]
    pub chart: Option<PathBuf>,
}

pub async fn run(args: ReportArgs) -> Result<ExitCode> {
    if !["text", "csv", "json"].contains(&args.format.as_str()) {
        anyhow::bail!("--format {}: use text, csv or json", args.format);
    }
    let location = StoreLocation::parse(&args.store);
    if let StoreLocation::Sqlite(path) = &location {
        if !path.exists() {
            anyhow::bail!(
                "{} does not exist; give the views store with --store (a `handoff replay --into` builds one)",
                path.display()
            );
        }
    }
    let store = handoff_views::schema::open_store(&location)
        .await
        .with_context(|| format!("opening {}", location.describe()))?;
    let as_of = match &args.as_of {
        Some(t) => parse_instant(t, DayEdge::End).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => handoff_replay::replay::replayed_window(&store)
            .await?
            .and_then(|w| w.to)
            .unwrap_or_else(Timestamp::now),
    };
    let source = Source {
        store: &store,
        catalogue: Arc::new(Catalogue::embedded()),
        as_of,
    };
    let table = report::run(&source, &args.name, args.a_number.as_deref()).await?;
    match args.format.as_str() {
        "csv" => print!("{}", table.to_csv()),
        "json" => println!("{}", serde_json::to_string_pretty(&table.to_json())?),
        _ => print!("{}", table.to_text()),
    }
    if let Some(path) = &args.chart {
        chart::draw(&table, path)?;
        eprintln!("chart: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
