//! How the answers' fields and values read on a page: a heading per field
//! name, and each JSON value (as the API sends it) as text a caseworker
//! reads: dates as dates, an address on one line, yes or no, a dash for
//! nothing known.

use handoff_events::Agency;
use maud::{html, Markup};
use serde_json::Value;

pub fn agency(a: Agency) -> &'static str {
    match a {
        Agency::Ice => "ICE",
        Agency::HhsOrr => "HHS ORR",
        Agency::DojEoir => "DOJ EOIR",
    }
}

/// An agency as the API names it (`hhs_orr`) on a page.
pub fn agency_name(name: &str) -> &str {
    match name {
        "ice" => "ICE",
        "hhs_orr" => "HHS ORR",
        "doj_eoir" => "DOJ EOIR",
        other => other,
    }
}

/// A field's column heading.
pub fn heading(field: &str) -> String {
    let known = match field {
        "a_number" => "A-number",
        "area_of_responsibility" => "Area of responsibility",
        "nta_status" => "NTA status",
        "nta_status_at" => "NTA status since",
        "nta_age_days" => "NTA status age (days)",
        "court" => "Court",
        "court_status" => "Court status",
        "next_hearing_at" => "Next hearing",
        "fta_count" => "Missed hearings",
        "ftas_without_follow_up" => "Without follow-up",
        "latest_address" => "Latest address",
        "latest_address_agency" => "Address from",
        "latest_address_at" => "Address reported",
        "open_safety_concerns" => "Open safety concerns",
        "released_at" => "Released",
        "last_fta_at" => "Last missed hearing",
        "address_differs_from_eoir" => "Differs from EOIR's",
        "represented" => "Represented",
        "hearing_at" => "Hearing",
        "follow_up" => "ICE follow-up",
        "opla_recorded" => "OPLA recorded",
        "days_since_release" => "Days since release",
        "schedule_id" => "Schedule id",
        "kind" => "Finding",
        "encountered_at" => "Encountered",
        "transferred_to_orr_at" => "Transferred to ORR",
        "placed_at" => "Placed in ORR care",
        "nta_issued_at" => "NTA issued",
        "nta_served_at" => "NTA served",
        "nta_service_method" => "NTA served by",
        "nta_filed_at" => "NTA filed with the court",
        "case_opened_at" => "Case opened",
        "case_completed" => "Case completed",
        "in_absentia_at" => "Ordered removed in absentia",
        "post_release_services" => "Post-release services",
        "left_care" => "Left ORR care",
        "source_system" => "Source system",
        "at" => "When",
        "detail" => "Detail",
        _ => "",
    };
    if known.is_empty() {
        sentence(field)
    } else {
        known.to_owned()
    }
}

/// `failed_to_appear` as "Failed to appear" (and `nta` as NTA).
pub fn sentence(name: &str) -> String {
    let text = name
        .split('_')
        .map(|w| if w == "nta" { "NTA" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Whether a field's values line up as numbers.
pub fn numeric(field: &str) -> bool {
    matches!(
        field,
        "nta_age_days"
            | "fta_count"
            | "ftas_without_follow_up"
            | "open_safety_concerns"
            | "days_since_release"
    )
}

/// An RFC 3339 instant as its date, or date and time where the time of
/// day matters (a hearing).
pub fn instant(text: &str, with_time: bool) -> String {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(t) if with_time => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Ok(t) => t.format("%Y-%m-%d").to_string(),
        Err(_) => text.to_owned(),
    }
}

/// A postal address (the API's `PostalAddress`) on one line.
pub fn address(v: &Value) -> String {
    let part = |k: &str| v[k].as_str().filter(|s| !s.is_empty());
    let street = [part("street"), part("secondary_unit")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let place = [part("city"), part("state"), part("postal_code")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let line = [street, place]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let mut flags = Vec::new();
    for (flag, says) in [
        ("blank", "blank"),
        ("undeliverable", "undeliverable"),
        ("missing_secondary_unit", "no unit number"),
    ] {
        if v[flag].as_bool() == Some(true) {
            flags.push(says);
        }
    }
    match (line.is_empty(), flags.is_empty()) {
        (true, true) => "(blank)".to_owned(),
        (true, false) => format!("({})", flags.join(", ")),
        (false, true) => line,
        (false, false) => format!("{line} ({})", flags.join(", ")),
    }
}

/// A field's value in a table cell.
pub fn value(field: &str, v: &Value) -> Markup {
    match v {
        Value::Null => html! { span class="text-base" aria-label="none" { "—" } },
        Value::Bool(b) => html! { (if *b { "Yes" } else { "No" }) },
        Value::Number(n) => html! { (n) },
        Value::String(s) if field == "at" || field.ends_with("_at") => {
            html! { time datetime=(s) { (instant(s, field == "hearing_at" || field == "next_hearing_at")) } }
        }
        Value::String(s) if field.ends_with("agency") || field == "agencies" => {
            html! { (agency_name(s)) }
        }
        Value::String(s)
            if field.ends_with("status")
                || matches!(
                    field,
                    "follow_up"
                        | "kind"
                        | "event"
                        | "rule"
                        | "state"
                        | "reason"
                        | "category"
                        | "severity"
                        | "outcome"
                        | "calendar"
                        | "nta_service_method"
                ) =>
        {
            html! { (sentence(s)) }
        }
        Value::String(s) => html! { (s) },
        Value::Object(_) if field.contains("address") => html! { (address(v)) },
        other => html! { (other.to_string()) },
    }
}
