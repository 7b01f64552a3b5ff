//! Giving each EOIR row its case's A-number as the ingest reads it: a
//! case-table or crosswalk row teaches the link, any other row takes it,
//! waits for it (its case has not arrived), or is rejected (its own
//! A-number disagrees, or the case has none). Rows that waited are taken
//! up again once their case is known, in this run or a later one.

use crate::doj::links::Resolution;
use crate::doj::{map_realigning, CaseLink, Table};
use crate::publisher::{IngestError, Publisher};
use crate::record::{Parsed, SourceLine};
use crate::records::Record;
use crate::table::{split_tsv, Header, Row};

/// Where a row of the internal layout goes, once its link is resolved.
pub async fn accept(
    publisher: &mut Publisher,
    record: Record,
    table: Option<Table>,
    header: &str,
) -> Result<(), IngestError> {
    let Some(link) = record.link else {
        // No readable IDNCASE, or cells that could not be lined up: the
        // parser has rejected the row already.
        return publisher.accept(&record.source, record.parsed).await;
    };
    let trusted = !matches!(record.parsed, Parsed::Rejected(_));
    let resolution = publisher.links().await?.resolve(&link, trusted);
    match (resolution, record.parsed) {
        (_, rejected @ Parsed::Rejected(_)) => publisher.accept(&record.source, rejected).await,
        (Resolution::Key(a_number), parsed) => {
            publisher
                .accept(&record.source, keyed(parsed, a_number))
                .await
        }
        (Resolution::Reject(reject), _) => {
            publisher
                .accept(&record.source, Parsed::Rejected(reject))
                .await
        }
        (Resolution::Wait, _) => {
            let table = table.expect("only table rows wait: crosswalk rows give");
            publisher
                .accept_waiting(&record.source, link.idncase, table, header.to_owned())
                .await
        }
    }
}

/// Takes up the rows waiting for cases that are now known: each is parsed
/// again from its stored line and header, and published or rejected.
pub async fn release(publisher: &mut Publisher) -> Result<(), IngestError> {
    if !publisher.links().await?.has_news() {
        return Ok(());
    }
    publisher.links().await?.sweep_started();
    let mut after = 0;
    loop {
        let page = publisher.links().await?.waiting(after).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        for waiting in page {
            let links = publisher.links().await?;
            if links.known(waiting.idncase).is_none() {
                continue;
            }
            let (parsed, link) = reparse(waiting.table, &waiting.header, &waiting.source);
            let resolution = match &link {
                Some(link) => links.resolve(link, !matches!(parsed, Parsed::Rejected(_))),
                None => Resolution::Wait,
            };
            let parsed = match (resolution, parsed) {
                (_, rejected @ Parsed::Rejected(_)) => rejected,
                (Resolution::Key(a_number), parsed) => keyed(parsed, a_number),
                (Resolution::Reject(reject), _) => Parsed::Rejected(reject),
                (Resolution::Wait, _) => continue,
            };
            publisher
                .accept_released(waiting.id, &waiting.source, parsed)
                .await?;
        }
    }
    publisher.flush().await
}

/// A waiting row, parsed as when it was read.
fn reparse(table: Table, header: &str, source: &SourceLine) -> (Parsed, Option<CaseLink>) {
    let header = Header::new(header.split('\t').map(str::to_owned).collect());
    let (parsed, _, cells) = map_realigning(table, &header, split_tsv(&source.raw), false);
    let link = cells.and_then(|cells| CaseLink::of(&Row::new(&header, cells), table));
    (parsed, link)
}

/// The row's events, under the case's A-number.
fn keyed(parsed: Parsed, a_number: handoff_events::ANumber) -> Parsed {
    match parsed {
        Parsed::Events(mut events) => {
            for event in &mut events {
                event.meta_mut().a_number = Some(a_number.clone());
            }
            Parsed::Events(events)
        }
        other => other,
    }
}
