//! `timeline <a-number>`: one child's events across the three agencies in
//! event time, each with the system and record it came from, so an
//! analyst can trace any figure back to the agencies' own records.

use handoff_events::ANumber;
use handoff_views::queries::Queries;
use serde_json::json;

use super::{ReportError, Source, Table};

pub async fn of(source: &Source<'_>, a_number: &str) -> Result<Table, ReportError> {
    let a = ANumber::parse(a_number).map_err(|e| ReportError::BadANumber(e.to_string()))?;
    let queries = Queries {
        store: source.store,
        catalogue: &source.catalogue,
    };
    let events = queries.events(a.as_str()).await?;
    if events.is_empty() {
        return Err(ReportError::UnknownChild {
            a_number: a.as_str().to_owned(),
            store: source.store.location().describe(),
        });
    }
    let mut table = Table::new(
        "timeline",
        &format!("Timeline of {}", a.as_str()),
        source.as_of.to_rfc3339(),
        &[
            "occurred_at",
            "recorded_at",
            "agency",
            "event",
            "source_system",
            "source_record_id",
            "event_id",
        ],
    );
    for e in events
        .iter()
        .filter(|e| e.meta().recorded_at < source.as_of)
    {
        let m = e.meta();
        table.row(vec![
            json!(m.occurred_at.to_rfc3339()),
            json!(m.recorded_at.to_rfc3339()),
            json!(m.source_agency.symbol()),
            json!(e.record_name()),
            json!(m.source_system),
            json!(m.source_record_id),
            json!(m.event_id),
        ]);
    }
    Ok(table)
}
