//! Publishing parsed records in batches: drop what the ledger already
//! holds, encode in order, send, wait for every acknowledgement, then
//! record the ids in the ledger and count. A record counts as published
//! only once the broker acknowledged all its new events. One batch is in
//! flight while the next is read, so parsing overlaps the broker's work.

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
    in_flight: Option<InFlight>,
}

/// A batch sent, its acknowledgements and their ledger write still running
/// on another thread while the next batch is read and encoded.
struct InFlight {
    /// The ids it carries: known to the next batch before the ledger has them.
    sent_ids: HashSet<Uuid>,
    task: tokio::task::JoinHandle<Sent>,
}

/// A batch's new events: (record, event within it, id), in input order,
/// their encodings, and the number of new events per record.
struct Prepared {
    to_send: Vec<(usize, usize, Uuid)>,
    payloads: Vec<Vec<u8>>,
    outcome: Vec<usize>,
}

/// What came back from a batch in flight.
struct Sent {
    batch: Vec<(Slot, Vec<Event>)>,
    outcome: Vec<usize>,
    result: Result<(), IngestError>,
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
            in_flight: None,
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
                    self.dispatch().await?;
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

    /// Publishes the queued records and waits until every record sent so
    /// far is acknowledged and counted.
    pub async fn flush(&mut self) -> Result<(), IngestError> {
        self.dispatch().await?;
        self.settle().await
    }

    /// Sends the queued records without waiting for their acknowledgements,
    /// so the next batch is read while the broker takes this one. The batch
    /// before is settled first: at most one batch is ever in flight, and a
    /// batch goes out only once every record before it is on the bus.
    async fn dispatch(&mut self) -> Result<(), IngestError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let prepared = self.prepare(&batch).await;
        // The batch in flight is counted whatever happened to this one.
        let settled = self.settle().await;
        let prepared = match (settled, prepared) {
            (Ok(()), Ok(prepared)) => prepared,
            (Err(e), _) | (Ok(()), Err(e)) => {
                // Not sent: not read by this run.
                for (slot, _) in &batch {
                    slot.summary(&mut self.summary).not_read += 1;
                }
                return Err(e);
            }
        };
        let producer = self.producer.clone();
        let ledger = self.ledger.clone();
        let sent_ids = prepared.to_send.iter().map(|(.., id)| *id).collect();
        let task = tokio::spawn(async move {
            let result = send(&producer, &ledger, &batch, &prepared).await;
            Sent {
                batch,
                outcome: prepared.outcome,
                result,
            }
        });
        self.in_flight = Some(InFlight { sent_ids, task });
        Ok(())
    }

    /// Waits for the batch in flight and counts its records: published,
    /// duplicate, or (not acknowledged) not read.
    async fn settle(&mut self) -> Result<(), IngestError> {
        let Some(in_flight) = self.in_flight.take() else {
            return Ok(());
        };
        let sent = match in_flight.task.await {
            Ok(sent) => sent,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if let Err(e) = sent.result {
            // A re-run skips whatever of it the ledger holds.
            for (slot, _) in &sent.batch {
                slot.summary(&mut self.summary).not_read += 1;
            }
            return Err(e);
        }
        for ((slot, _), new) in sent.batch.iter().zip(&sent.outcome) {
            let s = slot.summary(&mut self.summary);
            if *new == 0 {
                s.duplicates += 1;
            } else {
                s.published += 1;
                s.events_published += *new as u64;
            }
        }
        self.save_links(&sent.batch).await
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

    /// Which events of a batch are new, and their encodings. An event is
    /// known if the ledger holds it or the batch in flight carries it;
    /// decided per record, in input order, so a row repeated inside the
    /// batch is a duplicate of its first copy.
    async fn prepare(&mut self, batch: &[(Slot, Vec<Event>)]) -> Result<Prepared, IngestError> {
        // Each event's id is parsed once, in batch order.
        let ids: Vec<Uuid> = batch
            .iter()
            .flat_map(|(_, es)| es.iter().map(id_of))
            .collect();
        let mut seen: HashSet<Uuid> = self.ledger.known(&ids).await?.into_iter().collect();
        if let Some(in_flight) = &self.in_flight {
            seen.extend(ids.iter().filter(|id| in_flight.sent_ids.contains(id)));
        }
        let mut to_send = Vec::new();
        let mut outcome = Vec::with_capacity(batch.len());
        let mut next_id = ids.iter();
        for (record, (_, events)) in batch.iter().enumerate() {
            let mut new = 0;
            for event in 0..events.len() {
                let id = *next_id.next().expect("one id per event");
                if seen.insert(id) {
                    to_send.push((record, event, id));
                    new += 1;
                }
            }
            outcome.push(new);
        }
        let mut payloads = Vec::with_capacity(to_send.len());
        for &(record, event, _) in &to_send {
            payloads.push(self.encode(&batch[record].1[event]).await?);
        }
        Ok(Prepared {
            to_send,
            payloads,
            outcome,
        })
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
    /// account so far stays readable through `account_so_far()`.
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

    /// The account after a run that ended in an error: the batch in flight
    /// is waited for first, so its records are counted (published, or not
    /// read) and the account adds up.
    pub async fn account_so_far(&mut self) -> &Summary {
        // Its failure, if any, is counted; the run's own error is reported.
        let _ = self.settle().await;
        &self.summary
    }
}

/// Sends a batch's new events and waits for every acknowledgement, then
/// records the acknowledged ids in the ledger: whatever was acknowledged
/// is on the bus, so it is remembered even if the batch as a whole failed
/// and a re-run skips it.
async fn send(
    producer: &EventProducer,
    ledger: &Ledger,
    batch: &[(Slot, Vec<Event>)],
    prepared: &Prepared,
) -> Result<(), IngestError> {
    let sends =
        prepared
            .to_send
            .iter()
            .zip(&prepared.payloads)
            .map(|(&(record, event, _), payload)| {
                producer.publish_encoded(&batch[record].1[event], payload, None)
            });
    let results = futures::future::join_all(sends).await;
    let mut acked = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for ((.., id), r) in prepared.to_send.iter().zip(results) {
        match r {
            Ok(_) => acked.push(*id),
            Err(err) => failures.push(err),
        }
    }
    ledger.record(&acked).await?;
    if !failures.is_empty() {
        let failed = failures.len();
        return Err(IngestError::NotAcknowledged {
            failed,
            sent: prepared.to_send.len(),
            first: failures.swap_remove(0),
        });
    }
    Ok(())
}
