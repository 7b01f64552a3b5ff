//! Publishing parsed records in batches: drop what the ledger already
//! holds, encode in order, send, wait for every acknowledgement, then
//! record the ids in the ledger and count. A record counts as published
//! only once the broker acknowledged all its new events.

use std::collections::HashSet;
use std::time::Duration;

use handoff_bus::{EventProducer, PublishError};
use handoff_events::{CodecError, Event};
use uuid::Uuid;

use crate::doj::links::Links;
use crate::ledger::{Ledger, LedgerError};
use crate::record::{Parsed, Reject, RejectCode, SourceLine};
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
    #[error("stopped (Ctrl-C or SIGTERM) before every record was read; re-run to publish the rest (published events are skipped)")]
    Stopped,
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
    batch: Vec<(Slot, Vec<Event>)>,
    /// EOIR's case links, opened at the first EOIR row that needs them.
    links: Option<Links>,
}

/// Where a queued record is counted: its file, or (a row that waited for
/// its case) the released rows of its file, forgotten once published.
struct Slot {
    file: String,
    waiting: Option<i64>,
}

impl Slot {
    fn summary<'a>(&self, summary: &'a mut Summary) -> &'a mut crate::FileSummary {
        match self.waiting {
            None => summary.file(&self.file),
            Some(_) => summary.released(&self.file),
        }
    }
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
            links: None,
        }
    }

    /// Counts the record and queues its events; publishes when the batch
    /// is full.
    pub async fn accept(&mut self, source: &SourceLine, parsed: Parsed) -> Result<(), IngestError> {
        let slot = Slot {
            file: source.file.clone(),
            waiting: None,
        };
        self.take(slot, source, parsed).await
    }

    /// A row that waited for its EOIR case (id `waiting` in the store),
    /// now that the case is known: counted under the released rows of its
    /// file, and forgotten by the store once published or rejected.
    pub async fn accept_released(
        &mut self,
        waiting: i64,
        source: &SourceLine,
        parsed: Parsed,
    ) -> Result<(), IngestError> {
        let slot = Slot {
            file: source.file.clone(),
            waiting: Some(waiting),
        };
        let queued = matches!(parsed, Parsed::Events(_));
        self.take(slot, source, parsed).await?;
        if !queued {
            self.links().await?.forget(waiting);
        }
        Ok(())
    }

    /// An EOIR row that waits for its case: kept in the store, counted as
    /// pending.
    pub async fn accept_waiting(
        &mut self,
        source: &SourceLine,
        idncase: u64,
        table: crate::doj::Table,
        header: String,
    ) -> Result<(), IngestError> {
        self.links().await?.park(idncase, table, source, header);
        let s = self.summary.file(&source.file);
        s.records += 1;
        s.pending_link += 1;
        Ok(())
    }

    async fn take(
        &mut self,
        slot: Slot,
        source: &SourceLine,
        parsed: Parsed,
    ) -> Result<(), IngestError> {
        slot.summary(&mut self.summary).records += 1;
        // The last guard of "nothing is keyed by an empty A-number": an
        // event meant for notifications must name its child.
        let parsed = match parsed {
            Parsed::Events(events)
                if events
                    .iter()
                    .any(|e| !e.meta().statistical && e.meta().a_number.is_none()) =>
            {
                Parsed::Rejected(Reject::new(
                    RejectCode::NoANumber,
                    None,
                    "the record gives no A-number, and without one its events reach no child's case; add the A-number and send it again",
                ))
            }
            other => other,
        };
        match parsed {
            Parsed::Rejected(reject) => {
                if let Err(e) = self.rejects.write(source, &reject) {
                    // Not kept anywhere: not read, so a re-run sees it again.
                    slot.summary(&mut self.summary).not_read += 1;
                    return Err(IngestError::Rejects {
                        path: self.rejects.path().display().to_string(),
                        source: e,
                    });
                }
                *slot
                    .summary(&mut self.summary)
                    .rejected
                    .entry(reject.code.as_str().to_owned())
                    .or_default() += 1;
            }
            Parsed::NoEvent(_) => slot.summary(&mut self.summary).no_event += 1,
            Parsed::Events(events) => {
                self.batch.push((slot, events));
                if self.batch.len() >= BATCH_RECORDS {
                    self.flush().await?;
                }
            }
        }
        Ok(())
    }

    /// Records of `file` this run will not get to (its file failed, or the
    /// run stopped before them).
    pub fn not_read(&mut self, file: &str, records: u64) {
        let s = self.summary.file(file);
        s.records += records;
        s.not_read += records;
    }

    /// A file that could not be read, and why.
    pub fn file_failed(&mut self, file: &str, reason: String) {
        self.summary.file(file).failed = Some(reason);
    }

    /// EOIR's case links (opened on first use, in the ledger's file).
    pub async fn links(&mut self) -> Result<&mut Links, IngestError> {
        if self.links.is_none() {
            self.links = Some(Links::open(self.ledger.path()).await?);
        }
        Ok(self.links.as_mut().expect("just opened"))
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
        let result = self.publish(&batch).await;
        match result {
            Ok(outcome) => {
                for ((slot, _), new) in batch.iter().zip(outcome) {
                    let s = slot.summary(&mut self.summary);
                    if new == 0 {
                        s.duplicates += 1;
                    } else {
                        s.published += 1;
                        s.events_published += new as u64;
                    }
                }
                self.save_links(&batch).await
            }
            Err(e) => {
                // Not acknowledged (or not sent): not read by this run. A
                // re-run skips whatever of it the ledger holds.
                for (slot, _) in &batch {
                    slot.summary(&mut self.summary).not_read += 1;
                }
                Err(e)
            }
        }
    }

    /// After a batch is on the bus: the rejects so far on disk, then the
    /// case links learned, the rows parked, and the released rows of the
    /// batch forgotten, so a crash never loses a waiting row.
    async fn save_links(&mut self, batch: &[(Slot, Vec<Event>)]) -> Result<(), IngestError> {
        let Some(links) = self.links.as_mut() else {
            return Ok(());
        };
        for (slot, _) in batch {
            if let Some(id) = slot.waiting {
                links.forget(id);
            }
        }
        self.rejects.flush().map_err(|e| IngestError::Rejects {
            path: self.rejects.path().display().to_string(),
            source: e,
        })?;
        links.save().await?;
        Ok(())
    }

    /// Sends the new events of a batch and waits for every acknowledgement;
    /// returns the number of new events per record.
    async fn publish(&mut self, batch: &[(Slot, Vec<Event>)]) -> Result<Vec<usize>, IngestError> {
        let ids: Vec<Uuid> = batch
            .iter()
            .flat_map(|(_, es)| es.iter().map(id_of))
            .collect();
        let mut seen: HashSet<Uuid> = self.ledger.known(&ids).await?.into_iter().collect();

        // Decide per record, in input order, so a row repeated inside the
        // batch is a duplicate of its first copy.
        // Each event's id is parsed once, in `ids`, in batch order.
        let mut to_send: Vec<(&Event, Uuid)> = Vec::new();
        let mut outcome: Vec<usize> = Vec::new(); // new events per record
        let mut next_id = ids.iter();
        for (_, events) in batch {
            let mut new = 0;
            for e in events {
                let id = *next_id.next().expect("one id per event");
                if seen.insert(id) {
                    to_send.push((e, id));
                    new += 1;
                }
            }
            outcome.push(new);
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
        Ok(outcome)
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
        if let Some(links) = self.links.as_mut() {
            links.save().await?;
        }
        Ok(self.summary.clone())
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}
