//! The operations page, for any signed-in agency and with no child's
//! data: whether the broker and the registry answer, each consumer's lag
//! per partition, the records on the dead-letter topic, notifications
//! dead-lettered per subscriber, and ingest's rejects by reason code.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use handoff_adapters::rejects::RejectedRecord;
use handoff_bus::{KafkaConfig, SinkStats};
use handoff_events::topics;
use maud::{html, Markup};
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::layout::{page, Section};
use crate::table::{table, thousands, Column};
use crate::{Console, PageError};

const WAIT: Duration = Duration::from_secs(2);

/// What the operations page looks at.
pub struct Operations {
    /// The consumers in this process, by name, with their statistics.
    pub consumers: Vec<(&'static str, Arc<SinkStats>)>,
    pub kafka: KafkaConfig,
    pub registry_url: String,
    /// Where HTTP ingest writes its rejects files (`up`), if anywhere.
    pub rejects_dir: Option<PathBuf>,
}

struct BrokerLook {
    answered: Result<(), String>,
    dead_letters: Option<i64>,
}

impl Operations {
    /// Asks the broker for the dead-letter topic's offsets: the broker
    /// answers, and how many records the topic holds.
    async fn broker(&self) -> BrokerLook {
        let client: Result<BaseConsumer, _> = self.kafka.client().create();
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                return BrokerLook {
                    answered: Err(e.to_string()),
                    dead_letters: None,
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let metadata = match client.fetch_metadata(Some(topics::DLQ), WAIT) {
                Ok(m) => m,
                Err(e) => {
                    return BrokerLook {
                        answered: Err(format!("no answer: {e}")),
                        dead_letters: None,
                    }
                }
            };
            let mut total = 0;
            for t in metadata.topics() {
                for p in t.partitions() {
                    match client.fetch_watermarks(t.name(), p.id(), WAIT) {
                        Ok((low, high)) => total += high - low,
                        Err(e) => {
                            return BrokerLook {
                                answered: Err(format!("offsets of {}: {e}", t.name())),
                                dead_letters: None,
                            }
                        }
                    }
                }
            }
            BrokerLook {
                answered: Ok(()),
                dead_letters: Some(total),
            }
        })
        .await
        .unwrap_or_else(|e| BrokerLook {
            answered: Err(e.to_string()),
            dead_letters: None,
        })
    }

    async fn registry(&self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(WAIT)
            .build()
            .map_err(|e| e.to_string())?;
        match http
            .get(format!("{}/subjects", self.registry_url))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("answered {}", r.status())),
            Err(e) => Err(format!("no answer: {e}")),
        }
    }

    /// Rejected records per reason code, over every rejects file.
    fn rejects(&self) -> Option<BTreeMap<String, i64>> {
        let dir = self.rejects_dir.as_ref()?;
        let mut counts = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Some(counts);
        };
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let code = serde_json::from_str::<RejectedRecord>(line)
                    .ok()
                    .and_then(|r| serde_json::to_value(r.code).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unreadable line".to_owned());
                *counts.entry(code).or_insert(0) += 1;
            }
        }
        Some(counts)
    }
}

fn columns(headings: &[&str]) -> Vec<Column> {
    headings
        .iter()
        .enumerate()
        .map(|(i, h)| Column::plain(*h, i + 1 == headings.len()))
        .collect()
}

fn answer(r: &Result<(), String>) -> Markup {
    match r {
        Ok(()) => html! { span class="text-green text-bold" { "Answers" } },
        Err(e) => {
            html! { span class="text-secondary-dark text-bold" { "Does not answer" } ": " (e) }
        }
    }
}

pub async fn show(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let ops = &console.operations;
    let (broker, registry) = tokio::join!(ops.broker(), ops.registry());
    let lag_rows: Vec<Vec<Markup>> = ops
        .consumers
        .iter()
        .flat_map(|(name, stats)| {
            stats
                .lag()
                .into_iter()
                .map(move |((topic, partition), lag)| {
                    vec![
                        html! { (name) },
                        html! { (topic) },
                        html! { (partition) },
                        html! { (thousands(lag)) },
                    ]
                })
        })
        .collect();
    let dead_rows: Vec<Vec<Markup>> = match &console.notify {
        Some(notify) => handoff_notify::outbox::dead_per_subscriber(&notify.store)
            .await
            .map_err(|e| PageError::Unavailable(e.to_string()))?
            .into_iter()
            .map(|(s, n)| vec![html! { (s) }, html! { (thousands(n)) }])
            .collect(),
        None => Vec::new(),
    };
    let rejects = ops.rejects();
    let content = html! {
        p class="usa-intro" { "How the pipeline is doing. Nothing here names a child." }
        h2 { "Broker and registry" }
        ul class="usa-list" {
            li { strong { "Broker: " } (answer(&broker.answered)) }
            li { strong { "Schema registry: " } (answer(&registry)) }
        }
        h2 { "Consumer lag" }
        @if lag_rows.is_empty() {
            p { "No lag reported yet: the consumers report it every few seconds once they have partitions." }
        } @else {
            (table(html! { "Records on the broker not yet applied, per partition" }, &columns(&["Consumer", "Topic", "Partition", "Lag"]), &lag_rows))
        }
        h2 { "Dead letters" }
        p data-dead-letters=[broker.dead_letters] {
            @match broker.dead_letters {
                Some(n) => { strong { (thousands(n)) } " records on " code { (topics::DLQ) } " (what a consumer could not process, with the reason in its headers)." }
                None => { "The broker did not answer, so the dead-letter topic could not be counted." }
            }
        }
        h3 { "Notifications that could not be delivered" }
        @if console.notify.is_none() {
            p { "This server does not run the notifier." }
        } @else if dead_rows.is_empty() {
            p { "None: every notification was delivered or is still being tried." }
        } @else {
            (table(html! { "Dead notifications per subscriber (retry with handoff notify dlq retry)" }, &columns(&["Subscriber", "Dead"]), &dead_rows))
        }
        h2 { "Ingest rejects" }
        @match rejects {
            None => p { "This server does not take uploads, so it has no rejects of its own; each `handoff ingest` run writes its own rejects file." },
            Some(counts) if counts.is_empty() => p { "No rejected records." },
            Some(counts) => {
                @let rows: Vec<Vec<Markup>> = counts.iter().map(|(c, n)| vec![html! { code { (c) } }, html! { (thousands(*n)) }]).collect();
                (table(html! { "Records refused by uploads, by reason code" }, &columns(&["Reason code", "Records"]), &rows))
            }
        }
    };
    Ok(page("Operations", Some(&me), Section::Operations, content))
}
