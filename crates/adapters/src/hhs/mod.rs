//! HHS ORR: JSON Lines in the style of UC Path, one object per line with a
//! `record_type`: `placement`, `release`, `sponsor_address_update`,
//! `prs_start`, `prs_end`, `wellbeing_call`, `discharge`. Every record has
//! `record_id`, `a_number`, `event_date`, and optionally `orr_case_number`
//! and `recorded_at`.

use chrono::NaiveDateTime;
use handoff_events::hhs::{
    LeftCareReason, LeftOrrCare, PlacedInOrrCare, PlacementType, PostReleaseServicesEnded,
    PostReleaseServicesStarted, ReleasedToSponsor, SponsorCategory, WellbeingCallCompleted,
};
use handoff_events::shared::AddressChanged;
use handoff_events::{ANumber, Address, Agency, AgencyCaseIds, Event};
use serde_json::{Map, Value};

use crate::address::{assess, RawAddress};
use crate::fields;
use crate::origin::Origin;
use crate::record::{Parsed, Reject, RejectCode};
use crate::time::at;

pub const SYSTEM: &str = "UC_PATH";

pub const RECORD_TYPES: [&str; 7] = [
    "placement",
    "release",
    "sponsor_address_update",
    "prs_start",
    "prs_end",
    "wellbeing_call",
    "discharge",
];

pub fn map_line(line: &str) -> Parsed {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return Parsed::Rejected(Reject::new(
                RejectCode::MalformedJson,
                None,
                format!("not valid JSON ({e}); each line must be one JSON object"),
            ))
        }
    };
    let Value::Object(obj) = value else {
        return Parsed::Rejected(Reject::new(
            RejectCode::MalformedJson,
            None,
            "the line is JSON but not an object; each line must be one JSON object",
        ));
    };
    match map(&obj) {
        Ok(event) => Parsed::Events(vec![event]),
        Err(reject) => Parsed::Rejected(reject),
    }
}

fn text(obj: &Map<String, Value>, field: &str) -> Option<String> {
    match obj.get(field)? {
        Value::String(s) => fields::clean(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(obj: &Map<String, Value>, field: &str) -> Result<String, Reject> {
    text(obj, field).ok_or_else(|| Reject::missing(field))
}

fn datetime(obj: &Map<String, Value>, field: &str) -> Result<Option<NaiveDateTime>, Reject> {
    match text(obj, field) {
        None => Ok(None),
        Some(v) => fields::parse_datetime(&v)
            .map(Some)
            .ok_or_else(|| Reject::bad_date(field, &v)),
    }
}

fn address(obj: Option<&Value>) -> Address {
    let get = |k: &str| obj.and_then(|a| a.get(k)).and_then(Value::as_str);
    assess(&RawAddress {
        street: get("street"),
        unit: get("unit"),
        city: get("city"),
        state: get("state"),
        zip: get("zip"),
    })
}

fn map(obj: &Map<String, Value>) -> Result<Event, Reject> {
    let kind = required(obj, "record_type")?;
    let record_id = required(obj, "record_id")?;
    let a_number = ANumber::parse(&required(obj, "a_number")?).map_err(|e| {
        Reject::new(
            RejectCode::InvalidANumber,
            Some("a_number"),
            format!("a_number: {e}"),
        )
    })?;
    let when = datetime(obj, "event_date")?.ok_or_else(|| Reject::missing("event_date"))?;
    let origin = Origin {
        agency: Agency::HhsOrr,
        system: SYSTEM,
        record_id: format!("uc_path:{record_id}"),
        a_number: Some(a_number),
        case_ids: AgencyCaseIds {
            orr_case_number: text(obj, "orr_case_number"),
            ..Default::default()
        },
        recorded_at: datetime(obj, "recorded_at")?.map(at),
        correlation_id: None,
        statistical: false,
    };
    let meta = |t: &str| origin.meta(t, at(when));
    Ok(match kind.as_str() {
        "placement" => Event::PlacedInOrrCare(PlacedInOrrCare {
            meta: meta("PlacedInOrrCare"),
            facility_id: required(obj, "facility_id")?,
            placement_type: match text(obj, "placement_type")
                .unwrap_or_default()
                .to_lowercase()
                .as_str()
            {
                "shelter" => PlacementType::Shelter,
                "foster care" | "transitional foster care" | "long term foster care" => {
                    PlacementType::FosterCare
                }
                "staff secure" => PlacementType::StaffSecure,
                "secure" => PlacementType::Secure,
                "residential treatment center" | "rtc" => PlacementType::ResidentialTreatment,
                _ => PlacementType::Other,
            },
        }),
        "release" => {
            let sponsor = obj
                .get("sponsor")
                .and_then(Value::as_object)
                .ok_or_else(|| Reject::missing("sponsor"))?;
            let category = required(sponsor, "category")?;
            Event::ReleasedToSponsor(ReleasedToSponsor {
                meta: meta("ReleasedToSponsor"),
                sponsor_id: required(sponsor, "sponsor_id")?,
                sponsor_category: match category
                    .to_uppercase()
                    .trim_start_matches("CAT")
                    .trim_start_matches(['_', ' '])
                {
                    "1" => SponsorCategory::Cat1,
                    "2A" => SponsorCategory::Cat2A,
                    "2B" => SponsorCategory::Cat2B,
                    "3" => SponsorCategory::Cat3,
                    _ => {
                        return Err(Reject::bad_value(
                            "sponsor.category",
                            &category,
                            "1, 2A, 2B or 3 (category 4 is not a release)",
                        ))
                    }
                },
                relationship: text(sponsor, "relationship").unwrap_or_else(|| "UNKNOWN".to_owned()),
                address: address(sponsor.get("address")),
                sponsor_care_agreement: obj
                    .get("sca_signed")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
            })
        }
        "sponsor_address_update" => Event::AddressChanged(AddressChanged {
            meta: meta("AddressChanged"),
            address: address(obj.get("address")),
            previous_address: None,
            reported_by: text(obj, "reported_by").or(Some("SPONSOR".to_owned())),
        }),
        "prs_start" => Event::PostReleaseServicesStarted(PostReleaseServicesStarted {
            meta: meta("PostReleaseServicesStarted"),
            provider: text(obj, "provider"),
            reason: text(obj, "reason"),
        }),
        "prs_end" => Event::PostReleaseServicesEnded(PostReleaseServicesEnded {
            meta: meta("PostReleaseServicesEnded"),
            reason: text(obj, "reason"),
        }),
        "wellbeing_call" => Event::WellbeingCallCompleted(WellbeingCallCompleted {
            meta: meta("WellbeingCallCompleted"),
            reached: obj.get("reached").and_then(Value::as_bool).ok_or_else(|| {
                Reject::bad_value(
                    "reached",
                    &obj.get("reached").map(Value::to_string).unwrap_or_default(),
                    "true or false",
                )
            })?,
            attempt: obj
                .get("attempt")
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(1),
        }),
        "discharge" => {
            let reason = required(obj, "reason")?;
            Event::LeftOrrCare(LeftOrrCare {
                meta: meta("LeftOrrCare"),
                reason: match reason.to_lowercase().as_str() {
                    "aged out" | "age out" | "aged_out" => LeftCareReason::AgedOut,
                    "runaway" | "ran away" | "ran_away" => LeftCareReason::RanAway,
                    _ => LeftCareReason::Other,
                },
            })
        }
        other => {
            return Err(Reject::new(
                RejectCode::UnknownRecordType,
                Some("record_type"),
                format!(
                    "record_type `{other}` is not one of {}",
                    RECORD_TYPES.join(", ")
                ),
            ))
        }
    })
}
