//! One history size, end to end on a fresh stack: generate it, ingest it
//! per adapter (beside the raw producer ceiling), let `views` and
//! `notify` catch up on it, replay it into fresh SQLite and PostgreSQL
//! stores (beside the raw consume ceiling and the Python peer), and keep
//! every service's peak memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use handoff_adapters::Summary;
use handoff_events::topics;

use crate::catch_up::{self, CaughtUp};
use crate::ceiling::{self, Rate};
use crate::process::{run_to_end, Finished};
use crate::stack::{args, BenchStack};
use crate::{postgres, write, BenchError, Peers};

/// The agencies' adapters, each with the topic it publishes to.
pub const ADAPTERS: [(&str, &str); 3] = [
    ("ice", topics::ICE),
    ("hhs", topics::HHS),
    ("doj", topics::DOJ),
];

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AdapterFigures {
    pub adapter: String,
    /// `handoff ingest` over the adapter's files: events acknowledged, in
    /// the process's wall time (start, parse, encode, publish, exit).
    pub ingest: Rate,
    pub peak_rss_mb: f64,
    /// The same records, already encoded, through a bare producer.
    pub ceiling: Rate,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReplayFigures {
    pub store: String,
    pub replay: Rate,
    pub peak_rss_mb: f64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PeerFigures {
    pub rate: Rate,
    pub ftas: u64,
    pub nta_backlog: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SizeFigures {
    pub children: u64,
    pub events: u64,
    pub adapters: Vec<AdapterFigures>,
    pub views: CaughtUp,
    pub notify: CaughtUp,
    pub replays: Vec<ReplayFigures>,
    pub raw_consume: Rate,
    pub peer: PeerFigures,
    /// FTAs and NTA backlog by Handoff's reports on the replayed store,
    /// to show the peer did the same work.
    pub handoff_ftas: u64,
    pub handoff_nta_backlog: u64,
    /// The broker's peak resident memory over everything above. Runs
    /// before the log engine did not measure it.
    #[serde(default)]
    pub broker_peak_rss_mb: Option<f64>,
}

/// Where one size's measurements run.
pub struct SizeRun<'a> {
    pub bin: &'a Path,
    pub dir: PathBuf,
    pub children: u64,
    /// The PostgreSQL server the replay creates its database on.
    pub postgres: &'a str,
    pub peers: &'a Peers,
}

impl SizeRun<'_> {
    pub async fn measure(&self) -> Result<SizeFigures, BenchError> {
        let gen = generate(self.bin, &self.dir, self.children)?;
        let mut stack = BenchStack::start(self.bin, &self.dir.join("stack")).await?;
        let mut adapters = Vec::new();
        for (adapter, topic) in ADAPTERS {
            say(&format!("ingest {adapter} ({} children)", self.children));
            adapters.push(
                self.ingest_beside_ceiling(&stack, &gen, adapter, topic)
                    .await?,
            );
            stack.check()?;
        }
        let events = catch_up::log_size(&stack).await?;
        let within = Duration::from_secs(4 * 3600);

        say(&format!("views catching up on {events} events"));
        let store = self.dir.join("views.db");
        let mut views_args = args(&["views"]);
        views_args.extend(stack.client_args());
        views_args.extend(args(&[
            "--store",
            &store.display().to_string(),
            "--group",
            "bench-views",
            "--http-listen",
            "127.0.0.1:0",
        ]));
        let views =
            catch_up::measure(&mut stack, "views", &views_args, &store, None, within).await?;

        say(&format!("notify catching up on {events} events"));
        let store = self.dir.join("notify.db");
        let config = self.dir.join("notify.toml");
        write(&config, NOTIFY_ON_TOPIC)?;
        let mut notify_args = args(&["notify"]);
        notify_args.extend(stack.client_args());
        notify_args.extend(args(&[
            "--notify-store",
            &store.display().to_string(),
            "--notify-config",
            &config.display().to_string(),
            "--group",
            "bench-notify",
            "--http-listen",
            "127.0.0.1:0",
        ]));
        let notify = catch_up::measure(
            &mut stack,
            "notify",
            &notify_args,
            &store,
            catch_up::NOTIFY_TIMERS_OWED,
            within,
        )
        .await?;

        say("replay into SQLite");
        let sqlite = self.dir.join("replay.db");
        let mut replays =
            vec![self.replay(&stack, "SQLite", &sqlite.display().to_string(), events)?];
        say("replay into PostgreSQL");
        let url =
            postgres::fresh_database(self.postgres, &format!("handoff_bench_{}", self.children))
                .await?;
        replays.push(self.replay(&stack, "PostgreSQL", &url, events)?);
        postgres::drop_database(self.postgres, &format!("handoff_bench_{}", self.children)).await?;

        say("raw consume (the ceiling)");
        let kafka = stack.kafka.clone();
        let raw_consume =
            tokio::task::spawn_blocking(move || ceiling::consume(&kafka, &topics::AGENCY))
                .await
                .expect("the raw consumer does not panic")?;

        say("Python peer (confluent-kafka + fastavro into SQLite)");
        let peer_db = self.dir.join("peer.db");
        let _ = std::fs::remove_file(&peer_db);
        let out = self.peers.run(
            "replay_peer.py",
            &[
                stack.kafka.brokers.clone(),
                stack.registry_url.clone(),
                peer_db.display().to_string(),
            ],
        )?;
        let number = |key: &str| out[key].as_f64().unwrap_or(f64::NAN);
        let peer = PeerFigures {
            rate: Rate {
                records: number("events") as u64,
                bytes: 0,
                seconds: number("seconds"),
            },
            ftas: number("ftas") as u64,
            nta_backlog: number("nta_backlog") as u64,
        };
        let handoff_ftas = self.report_total(&sqlite, "fta-by-fiscal-year", "ftas")?;
        let handoff_nta_backlog = self.report_total(&sqlite, "nta-backlog", "children")?;
        stack.check()?;
        let broker = stack.stop()?;
        Ok(SizeFigures {
            children: self.children,
            broker_peak_rss_mb: Some(broker.peak_rss_mb),
            events,
            adapters,
            views,
            notify,
            replays,
            raw_consume,
            peer,
            handoff_ftas,
            handoff_nta_backlog,
        })
    }

    async fn ingest_beside_ceiling(
        &self,
        stack: &BenchStack,
        gen: &Path,
        adapter: &str,
        topic: &str,
    ) -> Result<AdapterFigures, BenchError> {
        let (ingest, finished) = ingest(self.bin, &self.dir, stack, gen, adapter)?;
        say(&format!(
            "raw producer over the {adapter} records (the ceiling)"
        ));
        let kafka = stack.kafka.clone();
        let (topic, raw) = (topic.to_owned(), format!("bench.raw.{adapter}"));
        let ceiling = tokio::task::spawn_blocking(move || {
            let partitions = ceiling::partition_count(&kafka, &topic)?;
            let records = ceiling::load(&kafka, &topic)?;
            ceiling::produce(&kafka, &raw, partitions, &records)
        })
        .await
        .expect("the raw producer does not panic")?;
        Ok(AdapterFigures {
            adapter: adapter.to_owned(),
            ingest,
            peak_rss_mb: finished.peak_rss_mb,
            ceiling,
        })
    }

    fn replay(
        &self,
        stack: &BenchStack,
        name: &str,
        into: &str,
        events: u64,
    ) -> Result<ReplayFigures, BenchError> {
        let mut list = args(&["replay", "--into", into]);
        list.extend(stack.client_args());
        list.extend(args(&[
            "--rejects",
            &self
                .dir
                .join(format!("replay-rejects-{name}.jsonl"))
                .display()
                .to_string(),
        ]));
        let finished = run_to_end(self.bin, &format!("replay-{name}"), &list, &self.dir)?;
        Ok(ReplayFigures {
            store: name.to_owned(),
            replay: Rate {
                records: events,
                bytes: 0,
                seconds: finished.wall.as_secs_f64(),
            },
            peak_rss_mb: finished.peak_rss_mb,
        })
    }

    /// The `all` row's `column` of a report on `store`.
    fn report_total(&self, store: &Path, report: &str, column: &str) -> Result<u64, BenchError> {
        let out = self.dir.join(format!("report-{report}.json"));
        let list = args(&[
            "report",
            report,
            "--store",
            &store.display().to_string(),
            "--format",
            "json",
        ]);
        run_to_end(self.bin, &format!("report-{report}"), &list, &self.dir)?;
        let text = crate::process::stdout_of(&self.dir, &format!("report-{report}"))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| BenchError::Run(format!("{}: {e}", out.display())))?;
        json["rows"]
            .as_array()
            .and_then(|rows| {
                rows.iter().find(|r| {
                    r.as_object()
                        .is_some_and(|o| o.values().any(|v| v == "all"))
                })
            })
            .and_then(|r| r[column].as_u64())
            .ok_or_else(|| {
                BenchError::Run(format!(
                    "report {report} has no `all` row with {column}: {text}"
                ))
            })
    }
}

/// A history of `children`, generated into `dir/gen` (`dir` created if
/// missing) with the bad records the generator plants; the directory it
/// is in.
pub fn generate(bin: &Path, dir: &Path, children: u64) -> Result<PathBuf, BenchError> {
    std::fs::create_dir_all(dir).map_err(|source| BenchError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let gen = dir.join("gen");
    say(&format!("generating {children} children"));
    run_to_end(
        bin,
        "gen",
        &args(&[
            "gen",
            "--children",
            &children.to_string(),
            "--out",
            &gen.display().to_string(),
        ]),
        dir,
    )?;
    Ok(gen)
}

/// `handoff ingest <adapter>` over the generated history in `gen`: the
/// events it published in the process's wall time, and how it ended.
/// Fails unless its account adds up.
pub fn ingest(
    bin: &Path,
    dir: &Path,
    stack: &BenchStack,
    gen: &Path,
    adapter: &str,
) -> Result<(Rate, Finished), BenchError> {
    let summary = dir.join(format!("ingest-{adapter}.json"));
    let mut list = args(&["ingest", adapter, &gen.join(adapter).display().to_string()]);
    list.extend(stack.client_args());
    list.extend(args(&[
        "--ledger",
        &dir.join(format!("ledger-{adapter}.db"))
            .display()
            .to_string(),
        "--rejects",
        &dir.join(format!("rejects-{adapter}.jsonl"))
            .display()
            .to_string(),
        "--summary-json",
        &summary.display().to_string(),
        "--quiet",
    ]));
    let finished = run_to_end(bin, &format!("ingest-{adapter}"), &list, dir)?;
    let text = std::fs::read_to_string(&summary).map_err(|source| BenchError::Io {
        path: summary.clone(),
        source,
    })?;
    let account: Summary = serde_json::from_str(&text)
        .map_err(|e| BenchError::Run(format!("{}: {e}", summary.display())))?;
    // The generator plants bad records on purpose: they are rejected
    // with a reason, and the account must still add up.
    if !account.adds_up() {
        return Err(BenchError::Run(format!(
            "ingest {adapter}: the account in {} does not add up",
            summary.display()
        )));
    }
    let rate = Rate {
        records: account.total().events_published,
        bytes: 0,
        seconds: finished.wall.as_secs_f64(),
    };
    Ok((rate, finished))
}

/// Every subscriber on the notifications topic: no webhook or SMTP peer
/// is needed to measure the notifier on a history.
const NOTIFY_ON_TOPIC: &str = r#"
[[subscriber]]
id = "orr"
agency = "HHS_ORR"
office = "ORR Post-Release Services"
roles = ["orr"]
channel = "topic"

[[subscriber]]
id = "ero"
agency = "ICE"
office = "ERO field offices"
roles = ["ero_field_office", "ero_supervisor", "field_office_director", "opla"]
channel = "topic"

[[subscriber]]
id = "eoir"
agency = "DOJ_EOIR"
office = "EOIR"
roles = ["eoir"]
channel = "topic"
"#;

pub fn say(what: &str) {
    eprintln!("bench: {what}");
}
