//! `Event`: any v1 event, as one Rust enum, with the dispatch between the
//! enum and Avro values that decoding a mixed topic needs.

use apache_avro::types::Value;
use apache_avro::{AvroSchema, Schema};

use crate::common::{Agency, EventMeta};
use crate::{doj, hhs, ice, shared};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("record `{0}` is not a Handoff v1 event type")]
    UnknownType(String),
    #[error("the {record} record does not fit its Rust type: {source}")]
    Shape {
        record: String,
        source: Box<apache_avro::Error>,
    },
}

/// Lists every event type once; the enum, its dispatch and the list of
/// derived schemas (which tests compare with `schemas/`) all come from it.
macro_rules! event_catalogue {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// Any Handoff v1 event. The variant name is the Avro record name.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($variant($ty)),*
        }

        /// Every event record name, as in `schemas/`.
        pub const EVENT_TYPES: &[&str] = &[$(stringify!($variant)),*];

        impl Event {
            pub fn meta(&self) -> &EventMeta {
                match self { $(Event::$variant(e) => &e.meta),* }
            }

            pub fn meta_mut(&mut self) -> &mut EventMeta {
                match self { $(Event::$variant(e) => &mut e.meta),* }
            }

            /// The short Avro record name, e.g. `FailedToAppear`.
            pub fn record_name(&self) -> &'static str {
                match self { $(Event::$variant(_) => stringify!($variant)),* }
            }

            /// The schema derived from the Rust type.
            pub fn derived_schema(record_name: &str) -> Option<Schema> {
                match record_name {
                    $(stringify!($variant) => Some(<$ty as AvroSchema>::get_schema()),)*
                    _ => None,
                }
            }

            /// The event as JSON in Avro's base types (timestamps as epoch
            /// millis, dates as days), for peers and exports.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Event::$variant(e) => serde_json::to_value(e)),*
                };
                value.expect("every event type serialises to JSON")
            }

            pub fn to_avro_value(&self) -> Value {
                let value = match self {
                    $(Event::$variant(e) => apache_avro::to_value(e)),*
                };
                value.expect("every event type serialises to an Avro value")
            }

            /// The event's Avro binary datum, serialised straight from the
            /// Rust type by a writer built for its schema.
            pub fn write_datum(
                &self,
                writer: &apache_avro::writer::datum::GenericDatumWriter<'_>,
            ) -> Result<Vec<u8>, apache_avro::Error> {
                // Sized for a typical event up front: growing an empty
                // vector by doubling was a measurable share of encoding.
                let mut out = Vec::with_capacity(256);
                match self { $(Event::$variant(e) => writer.write_ser(&mut out, e)),* }?;
                Ok(out)
            }

            /// Reads what `write_datum` wrote, straight into the Rust type.
            pub fn read_datum(
                record_name: &str,
                reader: &apache_avro::reader::datum::GenericDatumReader<'_>,
                mut bytes: &[u8],
            ) -> Result<Event, EventError> {
                let shape = |source| EventError::Shape {
                    record: record_name.to_owned(),
                    source: Box::new(source),
                };
                match record_name {
                    $(stringify!($variant) => reader.read_deser::<$ty>(&mut bytes)
                        .map(Event::$variant)
                        .map_err(shape),)*
                    other => Err(EventError::UnknownType(other.to_owned())),
                }
            }

            /// Rebuilds an event from a decoded Avro value and its record name.
            pub fn from_avro_value(record_name: &str, value: &Value) -> Result<Event, EventError> {
                let shape = |source| EventError::Shape {
                    record: record_name.to_owned(),
                    source: Box::new(source),
                };
                match record_name {
                    $(stringify!($variant) => apache_avro::from_value::<$ty>(value)
                        .map(Event::$variant)
                        .map_err(shape),)*
                    other => Err(EventError::UnknownType(other.to_owned())),
                }
            }
        }
    };
}

event_catalogue! {
    ChildEncountered => ice::ChildEncountered,
    TransferredToOrr => ice::TransferredToOrr,
    NoticeToAppearIssued => ice::NoticeToAppearIssued,
    NoticeToAppearServed => ice::NoticeToAppearServed,
    NoticeToAppearFiled => ice::NoticeToAppearFiled,
    FieldOfficeAssigned => ice::FieldOfficeAssigned,
    SafetyConcernRaised => ice::SafetyConcernRaised,
    FtaFollowUpRecorded => ice::FtaFollowUpRecorded,
    HearingOutcomeRecorded => ice::HearingOutcomeRecorded,
    PlacedInOrrCare => hhs::PlacedInOrrCare,
    ReleasedToSponsor => hhs::ReleasedToSponsor,
    PostReleaseServicesStarted => hhs::PostReleaseServicesStarted,
    PostReleaseServicesEnded => hhs::PostReleaseServicesEnded,
    WellbeingCallCompleted => hhs::WellbeingCallCompleted,
    LeftOrrCare => hhs::LeftOrrCare,
    CaseOpened => doj::CaseOpened,
    HearingScheduled => doj::HearingScheduled,
    HearingAdjourned => doj::HearingAdjourned,
    HearingAttended => doj::HearingAttended,
    FailedToAppear => doj::FailedToAppear,
    InAbsentiaOrderIssued => doj::InAbsentiaOrderIssued,
    CaseVenueChanged => doj::CaseVenueChanged,
    CaseCompleted => doj::CaseCompleted,
    AddressChanged => shared::AddressChanged,
}

impl Event {
    /// `gov.handoff.v1.<Name>`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", crate::catalogue::NAMESPACE, self.record_name())
    }

    /// The topic the event goes to: its source agency's.
    pub fn topic(&self) -> &'static str {
        self.meta().source_agency.topic()
    }

    /// The partition key: the normalised A-number, so one child's events
    /// stay in order. Statistical events without one key on the EOIR case.
    pub fn key(&self) -> String {
        let meta = self.meta();
        match (&meta.a_number, &meta.case_ids.eoir_idncase) {
            (Some(a), _) => a.as_str().to_owned(),
            (None, Some(case)) => format!("IDNCASE:{case}"),
            (None, None) => format!("RECORD:{}", meta.source_record_id),
        }
    }

    pub fn agency(&self) -> Agency {
        self.meta().source_agency
    }
}
