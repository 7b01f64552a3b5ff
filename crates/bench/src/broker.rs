//! The embedded broker on its own, engine against engine: a bare producer
//! and a bare consumer (`ceiling`) over the same records, Handoff's events
//! as the adapters publish them, against the log engine and against the
//! SQLite engine it replaced, each on a fresh broker in the same run. The
//! broker's peak memory on each is kept too.

use std::sync::Arc;

use handoff_events::topics;

use crate::ceiling::{self, Rate, RawRecord};
use crate::scale::{generate, ingest, say, ADAPTERS};
use crate::stack::{BenchStack, Engine};
use crate::BenchError;

/// The log engine's raw rates, at least this many times the SQLite
/// engine's.
pub const TARGET_RATIO: f64 = 10.0;

/// The history the engines are compared on in a full run: about a million
/// records. At the full 448,820 children (4.3 million records) the SQLite
/// engine stopped answering for over a minute in the third topic and its
/// bare producer's sends timed out by the hundred thousand, so no rate
/// could be taken; the log engine is measured at full scale by `scale`.
pub const CHILDREN: u64 = 100_000;

/// The engines, in the order they are measured: the one replaced first.
pub const ENGINES: [Engine; 2] = [Engine::Sqlite, Engine::Log];

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EngineFigures {
    /// As BENCHMARKS.md names it.
    pub engine: String,
    /// Every record through a bare producer, each acknowledged.
    pub produce: Rate,
    /// Every record read back from the beginning by a bare consumer.
    pub consume: Rate,
    /// The broker's peak resident memory over both.
    pub peak_rss_mb: f64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BrokerFigures {
    pub children: u64,
    pub records: u64,
    pub bytes: u64,
    /// In the order of `ENGINES`.
    pub engines: Vec<EngineFigures>,
}

impl BrokerFigures {
    /// The log engine's rate over the SQLite engine's, for producing and
    /// for consuming, when both were measured.
    pub fn ratios(&self) -> Option<(f64, f64)> {
        let find = |engine: Engine| self.engines.iter().find(|e| e.engine == engine.name());
        let (old, new) = (find(Engine::Sqlite)?, find(Engine::Log)?);
        Some((
            new.produce.per_second() / old.produce.per_second(),
            new.consume.per_second() / old.consume.per_second(),
        ))
    }
}

/// One agency's records as the adapters published them.
struct Agency {
    topic: String,
    partitions: i32,
    records: Vec<RawRecord>,
}

/// Generates a history of `children`, ingests it once to have Handoff's
/// records, then measures each engine on them.
pub async fn run(
    bin: &std::path::Path,
    dir: &std::path::Path,
    children: u64,
) -> Result<BrokerFigures, BenchError> {
    let agencies = Arc::new(records(bin, dir, children).await?);
    let records = agencies.iter().map(|a| a.records.len() as u64).sum();
    let bytes = agencies
        .iter()
        .flat_map(|a| &a.records)
        .map(|r| r.payload.as_ref().map_or(0, Vec::len) as u64)
        .sum();
    let mut engines = Vec::new();
    for engine in ENGINES {
        say(&format!(
            "broker: {} ({records} records, bare producer then bare consumer)",
            engine.name()
        ));
        let stack = BenchStack::start_on(bin, &dir.join(engine.flag()), engine).await?;
        let kafka = stack.kafka.clone();
        let sent = agencies.clone();
        let (produce, consume) = tokio::task::spawn_blocking(move || {
            let mut produce = Rate::default();
            for agency in sent.iter() {
                let to = raw_topic(&agency.topic);
                let rate = ceiling::produce(&kafka, &to, agency.partitions, &agency.records)?;
                produce = produce.and(rate);
            }
            let raw: Vec<String> = sent.iter().map(|a| raw_topic(&a.topic)).collect();
            let raw: Vec<&str> = raw.iter().map(String::as_str).collect();
            let consume = ceiling::consume(&kafka, &raw)?;
            Ok::<_, BenchError>((produce, consume))
        })
        .await
        .expect("the bare clients do not panic")?;
        if consume.records != records {
            return Err(BenchError::Run(format!(
                "broker: the bare consumer read {} records from the {}, {records} were produced",
                consume.records,
                engine.name()
            )));
        }
        let broker = stack.stop()?;
        engines.push(EngineFigures {
            engine: engine.name().to_owned(),
            produce,
            consume,
            peak_rss_mb: broker.peak_rss_mb,
        });
    }
    Ok(BrokerFigures {
        children,
        records,
        bytes,
        engines,
    })
}

/// The topic a bare producer writes an agency's records to.
fn raw_topic(agency: &str) -> String {
    format!("bench.raw.{agency}")
}

/// Handoff's records of a generated history: ingested by the three
/// adapters into a stack of their own, then read back as they lie.
async fn records(
    bin: &std::path::Path,
    dir: &std::path::Path,
    children: u64,
) -> Result<Vec<Agency>, BenchError> {
    let gen = generate(bin, dir, children)?;
    let stack = BenchStack::start(bin, &dir.join("source")).await?;
    for (adapter, _) in ADAPTERS {
        say(&format!("broker: ingest {adapter} for the records"));
        ingest(bin, dir, &stack, &gen, adapter)?;
    }
    let kafka = stack.kafka.clone();
    let agencies = tokio::task::spawn_blocking(move || {
        topics::AGENCY
            .iter()
            .map(|topic| {
                Ok(Agency {
                    topic: (*topic).to_owned(),
                    partitions: ceiling::partition_count(&kafka, topic)?,
                    records: ceiling::load(&kafka, topic)?,
                })
            })
            .collect::<Result<Vec<_>, BenchError>>()
    })
    .await
    .expect("reading the records does not panic")?;
    stack.stop()?;
    Ok(agencies)
}
