//! A child's page: the merged record across ICE, ORR and EOIR with the
//! fields the agency's policy grants (`child` view, as
//! `GET /v1/children/{a_number}`), the timeline in event time with each
//! entry's agency and source system, the current NTA, court and address
//! status, and the data-quality findings about the child.
//!
//! The A-number never travels in a URL: it is typed into a POSTed form,
//! and links carry a handle that stands for it in this session only.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::Form;
use handoff_events::{ANumber, Timestamp};
use handoff_views::answers::ChildRecord;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::labels::{self, heading, sentence};
use crate::layout::{alert, page, Section};
use crate::session::SignedIn;
use crate::table::{table, Column};
use crate::worklist_page::may_read;
use crate::{Console, PageError};

#[derive(Deserialize)]
pub struct FindForm {
    #[serde(default)]
    a_number: String,
    #[serde(default)]
    csrf: String,
}

pub async fn find_form(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    Ok(page(
        "Find a child",
        Some(&me),
        Section::Child,
        find_markup(&me, None),
    ))
}

fn find_markup(me: &SignedIn, problem: Option<String>) -> Markup {
    html! {
        @if let Some(problem) = problem {
            (alert("error", "Check the A-number", html! { (problem) }))
        }
        form class="usa-form" method="post" action="/children" {
            input type="hidden" name="csrf" value=(me.csrf);
            label class="usa-label" for="a_number" { "A-number" }
            span class="usa-hint" id="a_number-hint" { "With or without the A and dashes: A012-345-678" }
            input class="usa-input" id="a_number" name="a_number" required autocomplete="off" aria-describedby="a_number-hint";
            button class="usa-button margin-top-2" type="submit" { "Open the child's record" }
        }
    }
}

/// `POST /children`: to the child's page, by a handle.
pub async fn find(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<FindForm>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let me = console.signed_in(&headers)?;
    console.check_csrf(&me, &form.csrf)?;
    match ANumber::parse(form.a_number.trim()) {
        Ok(a) => {
            let handle = console.sessions.handle(&me, a.as_str());
            Ok(Redirect::to(&format!("/children/{handle}")).into_response())
        }
        Err(e) => Ok((
            axum::http::StatusCode::BAD_REQUEST,
            page(
                "Find a child",
                Some(&me),
                Section::Child,
                find_markup(&me, Some(e.to_string())),
            ),
        )
            .into_response()),
    }
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    may_read(&console, &me, "child", "a child's page")?;
    let a_number = console.sessions.a_number(&me, &handle).ok_or_else(|| {
        PageError::NotFound(
            "This link was made for another session, or it has expired. Find the child again from a worklist or by A-number.".into(),
        )
    })?;
    let queries = console.queries();
    let found = queries
        .child(&a_number)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))?;
    let returned: Vec<String> = found.iter().map(|_| a_number.clone()).collect();
    console
        .audit(&me, "GET /children/{handle}", &returned)
        .await?;
    let Some(child) = found else {
        return Err(PageError::NotFound(format!(
            "Handoff holds no record of {}.",
            ANumber::parse(&a_number)
                .map(|a| a.masked())
                .unwrap_or_default()
        )));
    };
    let agency = me.token.agency;
    let record = serde_json::to_value(ChildRecord::from(&child)).unwrap_or_default();
    let record = console.views.policy.filter(agency, "child", &record);
    let findings = if console.views.policy.may_read(agency, "data_quality") {
        Some(
            queries
                .findings_of(&a_number)
                .await
                .map_err(|e| PageError::Unavailable(e.to_string()))?,
        )
    } else {
        None
    };
    let title = format!("Child {a_number}");
    Ok(page(
        &title,
        Some(&me),
        Section::Child,
        render(&record, findings.as_deref()),
    ))
}

/// Fields shown in the status box or in sections of their own.
const SECTIONED: [&str; 9] = [
    "timeline",
    "hearings",
    "ftas",
    "addresses",
    "safety_concerns",
    "wellbeing_calls",
    "a_number",
    "events",
    "opla_only_ftas",
];

fn render(record: &Value, findings: Option<&[(String, String)]>) -> Markup {
    let Value::Object(fields) = record else {
        return html! {};
    };
    let now = Timestamp::now();
    html! {
        (status_box(record, now))
        h2 { "Record" }
        dl class="usa-summary-box__text grid-row grid-gap" {
            @for (name, v) in fields.iter().filter(|(n, v)| !SECTIONED.contains(&n.as_str()) && !v.is_null()) {
                dt class="grid-col-12 tablet:grid-col-4 text-bold" { (heading(name)) }
                dd class="grid-col-12 tablet:grid-col-8 margin-left-0" { (fact(name, v)) }
            }
        }
        @if let Some(Value::Array(entries)) = record.get("timeline") {
            h2 id="timeline" { "Timeline" }
            p { "Every event about this child that your agency's policy shows, in the order it happened, with the agency and system that recorded it." }
            div data-timeline-rows=(entries.len()) {
                (list_table("Timeline", entries, &["at", "agency", "source_system", "event"]))
            }
        }
        @for (name, title) in [
            ("hearings", "Hearings"),
            ("ftas", "Missed hearings"),
            ("addresses", "Addresses"),
            ("safety_concerns", "Safety concerns"),
            ("wellbeing_calls", "Well-being calls"),
        ] {
            @if let Some(Value::Array(entries)) = record.get(name) {
                h2 { (title) }
                @if entries.is_empty() {
                    p { "None recorded." }
                } @else {
                    (list_table(title, entries, &[]))
                }
            }
        }
        @if let Some(Value::Array(ftas)) = record.get("opla_only_ftas") {
            @if !ftas.is_empty() {
                h2 { "Missed hearings only OPLA recorded" }
                ul class="usa-list" { @for t in ftas { li { (labels::value("at", t)) } } }
            }
        }
        @if let Some(findings) = findings {
            h2 { "Data-quality findings" }
            @if findings.is_empty() {
                p { "None stored for this child." }
            } @else {
                ul class="usa-list" data-findings=(findings.len()) {
                    @for (kind, detail) in findings { li { strong { (sentence(kind)) } ": " (detail) } }
                }
            }
        }
    }
}

/// NTA, court and address status, with the address's source and age.
fn status_box(record: &Value, now: Timestamp) -> Markup {
    let latest = record["addresses"].as_array().and_then(|a| {
        a.iter()
            .max_by_key(|x| x["at"].as_str().unwrap_or_default().to_owned())
    });
    let court_status = if !record["case_completed"].is_null() {
        "Case completed"
    } else if !record["case_opened_at"].is_null() {
        "Case open"
    } else {
        "No court case known"
    };
    html! {
        div class="usa-summary-box margin-bottom-3" role="region" aria-labelledby="status-heading" {
            div class="usa-summary-box__body" {
                h2 class="usa-summary-box__heading" id="status-heading" { "Current status" }
                ul class="usa-list usa-list--unstyled" {
                    @if let Some(nta) = record["nta_status"].as_str() {
                        li { strong { "Notice to Appear: " } (sentence(nta)) }
                    }
                    @if record.get("court").is_some() || record.get("case_opened_at").is_some() {
                        li {
                            strong { "Court: " } (court_status)
                            @if let Some(c) = record["court"].as_str() { " (" (c) ")" }
                        }
                    }
                    @if let Some(a) = latest {
                        li {
                            strong { "Latest address: " } (labels::address(&a["address"]))
                            ", from " (labels::agency_name(a["agency"].as_str().unwrap_or_default()))
                            @if let Some(days) = age_days(&a["at"], now) {
                                ", reported " (labels::value("at", &a["at"])) " (" (days) " days ago)"
                            }
                        }
                    } @else if record.get("addresses").is_some() {
                        li { strong { "Latest address: " } "none known" }
                    }
                }
            }
        }
    }
}

fn age_days(at: &Value, now: Timestamp) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(at.as_str()?).ok()?;
    Some((now.0 - t.timestamp_millis()).div_euclid(86_400_000))
}

/// An object's fields on one line; anything else as a cell.
fn fact(name: &str, v: &Value) -> Markup {
    match v {
        Value::Object(_) if name.contains("address") => labels::value(name, v),
        Value::Object(o) => html! {
            @for (i, (k, x)) in o.iter().filter(|(_, x)| !x.is_null()).enumerate() {
                @if i > 0 { "; " }
                (sentence(k)) ": " (labels::value(k, x))
            }
        },
        Value::Array(items) => html! {
            @for (i, x) in items.iter().enumerate() {
                @if i > 0 { ", " }
                (labels::value(name, x))
            }
        },
        _ => labels::value(name, v),
    }
}

/// A table of like objects: the columns `order` names, else each key.
fn list_table(title: &str, entries: &[Value], order: &[&str]) -> Markup {
    let keys: Vec<String> = if order.is_empty() {
        entries
            .first()
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        order.iter().map(|s| (*s).to_owned()).collect()
    };
    let columns: Vec<Column> = keys
        .iter()
        .map(|k| Column::plain(heading(k), false))
        .collect();
    let rows: Vec<Vec<Markup>> = entries
        .iter()
        .map(|e| keys.iter().map(|k| fact(k, &e[k])).collect())
        .collect();
    table(html! { (title) }, &columns, &rows)
}
