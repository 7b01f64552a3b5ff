//! Publishing parsed records in batches: drop what the ledger already
//! holds, encode in order, send, wait for every acknowledgement, then
//! record the ids in the ledger and count. A record counts as published
//! only once the broker acknowledged all its new events.

use std::collections::HashSet;
use std::time::Duration;

use handoff_bus::{EventProducer, PublishError};
use handoff_events::{CodecError, Event};
use uuid::Uuid;

use crate::ledger::{Ledger, LedgerError};
use crate::record::{Parsed, SourceLine};
use crate::rejects::RejectWriter;
use crate::summary::Summary;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("cannot write the rejects file {path}: {source}")]
    Rejects {
        path: String,
        source: std::io::Error,
    },
    #[error("the schema registry did not answer after {attempts} attempts: {source}. Records not yet published were not counted; re-run once the registry is back (published events are skipped)")]
    Registry { attempts: u32, source: CodecError },
    #[error("the broker did not acknowledge {failed} of {sent} events: {first}. Records not acknowledged were not counted as published; re-run once the broker is back (published events are skipped)")]
    NotAcknowledged {
        failed: usize,
        sent: usize,
        first: PublishError,
    },
    #[error("{file}: {message}")]
    Input { file: String, message: String },
}

/// Records per batch: large enough to keep the producer busy, small
/// enough that a failure loses little progress.
const BATCH_RECORDS: usize = 2_000;
const REGISTRY_ATTEMPTS: u32 = 5;

pub struct Publisher {
    producer: EventProducer,
    ledger: Ledger,
    rejects: RejectWriter,
    summary: Summary,
    batch: Vec<(String, Vec<Event>)>,
}

fn id_of(event: &Event) -> Uuid {
    Uuid::parse_str(&event.meta().event_id).unwrap_or_else(|_| {
        // Adapters always set a UUID; anything else still gets a stable key.
        Uuid::new_v5(&Uuid::NAMESPACE_OID, event.meta().event_id.as_bytes())
    })
}

impl Publisher {
    pub fn new(producer: EventProducer, ledger: Ledger, rejects: RejectWriter) -> Self {
        Publisher {
            producer,
            ledger,
            rejects,
            summary: Summary::default(),
            batch: Vec::new(),
        }
    }

    /// Counts the record and queues its events; publishes when the batch
    /// is full.
    pub async fn accept(&mut self, source: &SourceLine, parsed: Parsed) -> Result<(), IngestError> {
        self.summary.file(&source.file).records += 1;
        match parsed {
            Parsed::Rejected(reject) => {
                *self
                    .summary
                    .file(&source.file)
                    .rejected
                    .entry(reject.code.as_str().to_owned())
                    .or_default() += 1;
                self.rejects
                    .write(source, &reject)
                    .map_err(|e| IngestError::Rejects {
                        path: self.rejects.path().display().to_string(),
                        source: e,
                    })?;
            }
            Parsed::NoEvent(_) => self.summary.file(&source.file).no_event += 1,
            Parsed::Events(events) => {
                self.batch.push((source.file.clone(), events));
                if self.batch.len() >= BATCH_RECORDS {
                    self.flush().await?;
                }
            }
        }
        Ok(())
    }

    pub fn note_realigned(&mut self, file: &str) {
        self.summary.file(file).realigned += 1;
    }

    /// Publishes the queued records.
    pub async fn flush(&mut self) -> Result<(), IngestError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let ids: Vec<Uuid> = batch
            .iter()
            .flat_map(|(_, es)| es.iter().map(id_of))
            .collect();
        let mut seen: HashSet<Uuid> = self.ledger.known(&ids).await?.into_iter().collect();

        // Decide per record, in input order, so a row repeated inside the
        // batch is a duplicate of its first copy.
        // Each event's id is parsed once, in `ids`, in batch order.
        let mut to_send: Vec<(&Event, Uuid)> = Vec::new();
        let mut outcome: Vec<(&str, usize)> = Vec::new(); // (file, new events)
        let mut next_id = ids.iter();
        for (file, events) in &batch {
            let mut new = 0;
            for e in events {
                let id = *next_id.next().expect("one id per event");
                if seen.insert(id) {
                    to_send.push((e, id));
                    new += 1;
                }
            }
            outcome.push((file, new));
        }

        // Indexing, not iterating: an iterator held across an await makes
        // this future non-`Send` (a higher-ranked lifetime limit of rustc).
        let mut payloads = Vec::with_capacity(to_send.len());
        #[allow(clippy::needless_range_loop)]
        for n in 0..to_send.len() {
            let encoded = self.encode(to_send[n].0).await?;
            payloads.push(encoded);
        }
        // Collected first: a lazy iterator of borrowed futures would make
        // this future non-`Send` for the HTTP handler.
        let sends: Vec<_> = to_send
            .iter()
            .zip(&payloads)
            .map(|((e, _), p)| self.producer.publish_encoded(e, p, None))
            .collect();
        let results = futures::future::join_all(sends).await;
        let mut acked = Vec::with_capacity(results.len());
        let mut failures = Vec::new();
        for ((_, id), r) in to_send.iter().zip(results) {
            match r {
                Ok(_) => acked.push(*id),
                Err(err) => failures.push(err),
            }
        }
        // Whatever was acknowledged is on the bus: remember it even if the
        // batch as a whole failed, so a re-run skips it.
        self.ledger.record(&acked).await?;
        if !failures.is_empty() {
            let failed = failures.len();
            return Err(IngestError::NotAcknowledged {
                failed,
                sent: to_send.len(),
                first: failures.swap_remove(0),
            });
        }
        for (file, new) in outcome {
            let s = self.summary.file(file);
            if new == 0 {
                s.duplicates += 1;
            } else {
                s.published += 1;
                s.events_published += new as u64;
            }
        }
        Ok(())
    }

    async fn encode(&self, event: &Event) -> Result<Vec<u8>, IngestError> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.producer.codec().encode(event).await {
                Ok(bytes) => return Ok(bytes),
                Err(source) if attempt >= REGISTRY_ATTEMPTS => {
                    return Err(IngestError::Registry {
                        attempts: attempt,
                        source,
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "encoding failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
            }
        }
    }

    /// Publishes what is left and returns the account. On error the
    /// account so far stays readable through `summary()`.
    pub async fn finish(&mut self) -> Result<Summary, IngestError> {
        self.flush().await?;
        self.rejects.flush().map_err(|e| IngestError::Rejects {
            path: self.rejects.path().display().to_string(),
            source: e,
        })?;
        Ok(self.summary.clone())
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}
