//! The envelope every adapter fills the same way: which system said it,
//! about which record and child, and when it was recorded.

use handoff_events::ids::event_id;
use handoff_events::{ANumber, Agency, AgencyCaseIds, EventMeta, Timestamp};

/// What one source record tells about where its events come from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub agency: Agency,
    pub system: &'static str,
    /// The record's id in the source, with its table or file kind, e.g.
    /// `tbl_schedule:7001`. With the event type it makes the event id.
    pub record_id: String,
    pub a_number: Option<ANumber>,
    pub case_ids: AgencyCaseIds,
    /// When the source recorded it, if the record says; otherwise each
    /// event's own time stands in (never the ingest time, so re-ingesting
    /// yields identical events).
    pub recorded_at: Option<Timestamp>,
    pub correlation_id: Option<String>,
    pub statistical: bool,
}

impl Origin {
    /// The meta block for one event of this record.
    pub fn meta(&self, event_type: &str, occurred_at: Timestamp) -> EventMeta {
        EventMeta {
            event_id: event_id(self.system, &self.record_id, event_type).to_string(),
            event_type: event_type.to_owned(),
            occurred_at,
            recorded_at: self.recorded_at.unwrap_or(occurred_at),
            source_agency: self.agency,
            source_system: self.system.to_owned(),
            source_record_id: self.record_id.clone(),
            a_number: self.a_number.clone(),
            case_ids: self.case_ids.clone(),
            correlation_id: self.correlation_id.clone(),
            statistical: self.statistical,
        }
    }
}
