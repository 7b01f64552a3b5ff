//! The notification inbox: the signed-in agency's subscribers, and for
//! each its notifications with rule, priority, sequence and delivery
//! state, to acknowledge from the page (and, for ICE, to record that a
//! follow-up was made, which stops a missed hearing's escalation), through
//! the same acknowledgement the API records.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use handoff_events::Agency;
use handoff_notify::api::{acknowledge as record_ack, AckState};
use handoff_notify::notification::ListedNotification;
use handoff_notify::outbox::{self, Listing, STATES};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::labels::{self, sentence};
use crate::layout::{alert, page, Section};
use crate::listing::own_subscribers;
use crate::session::SignedIn;
use crate::table::{pagination, table, thousands, Column};
use crate::{Console, PageError};

const PAGE_SIZE: i64 = 50;

fn notifier(console: &Console) -> Result<&Arc<AckState>, PageError> {
    console.notify.as_ref().ok_or_else(|| {
        PageError::Unavailable(
            "This server runs the views without the notifier, so it has no inbox. Open the console that `handoff up` serves.".into(),
        )
    })
}

pub async fn subscribers(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let notify = notifier(&console)?;
    let mut rows = Vec::new();
    for id in own_subscribers(notify, me.token.agency) {
        let count = |acknowledged, state: Option<&str>| {
            let listing = Listing {
                subscribers: vec![id.clone()],
                acknowledged,
                state: state.map(str::to_owned),
                limit: 0,
                ..Listing::default()
            };
            let store = &notify.store;
            async move { outbox::list(store, &listing).await.map(|(_, n)| n) }
        };
        let unavailable =
            |e: handoff_views::store::StoreError| PageError::Unavailable(e.to_string());
        let all = count(None, None).await.map_err(unavailable)?;
        let open = count(Some(false), Some(outbox::DELIVERED))
            .await
            .map_err(unavailable)?;
        let dead = count(None, Some(outbox::DEAD)).await.map_err(unavailable)?;
        let office = notify
            .config
            .subscribers
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.office.clone())
            .unwrap_or_default();
        rows.push(vec![
            html! { a class="usa-link" href={ "/inbox/" (id) } { (id) } },
            html! { (office) },
            html! { (thousands(all)) },
            html! { (thousands(open)) },
            html! { (thousands(dead)) },
        ]);
    }
    let columns: Vec<Column> = [
        "Subscriber",
        "Office",
        "Notifications",
        "Delivered, not acknowledged",
        "Dead letters",
    ]
    .iter()
    .enumerate()
    .map(|(i, h)| Column::plain(*h, i >= 2))
    .collect();
    let content = html! {
        p class="usa-intro" { "Where Handoff sends " (labels::agency(me.token.agency)) "'s notifications (deploy/notify.toml). Open one to read and acknowledge what it received." }
        (table(html! { "Your agency's subscribers" }, &columns, &rows))
    };
    Ok(page("Notifications", Some(&me), Section::Inbox, content))
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    state: Option<String>,
    acknowledged: Option<String>,
    offset: Option<String>,
    acked: Option<String>,
}

/// The subscriber, if it is one of the agency's.
fn own(notify: &AckState, me: &SignedIn, subscriber: &str) -> Result<(), PageError> {
    if own_subscribers(notify, me.token.agency)
        .iter()
        .any(|s| s == subscriber)
    {
        Ok(())
    } else {
        Err(PageError::NotFound(format!(
            "{} has no subscriber called {subscriber:?}.",
            labels::agency(me.token.agency)
        )))
    }
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Path(subscriber): Path<String>,
    Query(q): Query<InboxQuery>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let notify = notifier(&console)?;
    own(notify, &me, &subscriber)?;
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = state {
        if !STATES.contains(&s) {
            return Err(PageError::BadInput(
                "state",
                format!("no state {s:?}; choose one from the list"),
            ));
        }
    }
    let acknowledged = match q.acknowledged.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(PageError::BadInput(
                "acknowledged",
                format!("{other:?} is not yes or no"),
            ))
        }
    };
    let offset = q
        .offset
        .as_deref()
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let listing = Listing {
        subscribers: vec![subscriber.clone()],
        state: state.map(str::to_owned),
        acknowledged,
        limit: PAGE_SIZE,
        offset,
        ..Listing::default()
    };
    let (rows, total) = outbox::list(&notify.store, &listing)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))?;
    let items: Vec<ListedNotification> = rows.into_iter().map(Into::into).collect();
    let a_numbers: Vec<String> = items
        .iter()
        .map(|n| n.notification.a_number.clone())
        .collect();
    console
        .audit(&me, "GET /inbox/{subscriber}", &a_numbers)
        .await?;

    let ice = me.token.agency == Agency::Ice;
    let headings = [
        "Sequence",
        "Rule",
        "Priority",
        "Happened",
        "Child",
        "What",
        "Delivery",
        "Acknowledgement",
    ];
    let columns: Vec<Column> = headings
        .iter()
        .map(|h| Column::plain(*h, *h == "Sequence"))
        .collect();
    let table_rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|n| {
            let handle = console.sessions.handle(&me, &n.notification.a_number);
            vec![
                html! { (n.notification.sequence) },
                html! { (sentence(&n.notification.rule)) },
                html! { @if n.notification.priority == "high" { strong { "High" } } @else { "Normal" } },
                labels::value("occurred_at", &Value::String(n.notification.occurred_at.0.to_rfc3339())),
                html! { a class="usa-link" href={ "/children/" (handle) } { (n.notification.a_number) } },
                html! { (summary(&n.notification.payload)) },
                html! {
                    (sentence(&n.state))
                    @if let Some(e) = &n.last_error { br; span class="font-body-3xs" { "Last error: " (e) } }
                },
                ack_cell(&me, &subscriber, n, ice),
            ]
        })
        .collect();
    let link = |offset: i64| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(st) = state {
            s.append_pair("state", st);
        }
        if let Some(a) = acknowledged {
            s.append_pair("acknowledged", &a.to_string());
        }
        s.append_pair("offset", &offset.to_string());
        format!("/inbox/{subscriber}?{}", s.finish())
    };
    let content = html! {
        @if let Some(id) = q.acked.as_deref() {
            (alert("success", "Acknowledged", html! { "Notification " (id) " is acknowledged." }))
        }
        form class="usa-form maxw-none" method="get" action={ "/inbox/" (subscriber) } {
            div class="grid-row grid-gap-2" {
                div class="usa-form-group grid-col-6 tablet:grid-col-3" {
                    label class="usa-label" for="state" { "Delivery state" }
                    select class="usa-select" id="state" name="state" {
                        option value="" { "Any" }
                        @for s in STATES { option value=(s) selected[state == Some(s)] { (sentence(s)) } }
                    }
                }
                div class="usa-form-group grid-col-6 tablet:grid-col-3" {
                    label class="usa-label" for="acknowledged" { "Acknowledged" }
                    select class="usa-select" id="acknowledged" name="acknowledged" {
                        option value="" { "Either" }
                        option value="false" selected[acknowledged == Some(false)] { "Not yet" }
                        option value="true" selected[acknowledged == Some(true)] { "Yes" }
                    }
                }
            }
            button class="usa-button margin-top-2" type="submit" { "Show" }
        }
        (table(html! { "Notifications to " (subscriber) ", by sequence number" }, &columns, &table_rows))
        (pagination(offset, table_rows.len(), total, PAGE_SIZE, link))
    };
    Ok(page(
        &format!("Notifications to {subscriber}"),
        Some(&me),
        Section::Inbox,
        content,
    ))
}

/// What the notification is about, in a few words from its payload: the
/// part its rule adds (a hearing, a new address, a concern, a finding, a
/// deadline), else the latest address.
fn summary(payload: &Value) -> Markup {
    let hearing = &payload["hearing"];
    let concern = &payload["concern"];
    html! {
        @if let (Some(court), Some(at)) = (hearing["court"].as_str(), hearing["at"].as_str()) {
            "Hearing " (labels::instant(at, true)) " at " (court)
        } @else if !payload["new_address"].is_null() {
            "New address: " (labels::address(&payload["new_address"]))
            @if let Some(by) = payload["reported_by"].as_str() { ", from " (labels::agency_name(by)) }
        } @else if let Some(category) = concern["category"].as_str() {
            "Safety concern: " (sentence(category))
            @if let Some(severity) = concern["severity"].as_str() { ", " (sentence(severity)) }
        } @else if let Some(finding) = payload["finding"].as_str() {
            "Address " (sentence(finding).to_lowercase()) ": " (labels::address(&payload["address"]))
        } @else if let Some(due) = payload["due"].as_str() {
            "Deadline passed " (labels::instant(due, false))
            @if let Some(status) = payload["nta_status"].as_str() { "; NTA " (sentence(status).to_lowercase()) }
        } @else if let Some(a) = payload.get("latest_address").filter(|a| !a.is_null()) {
            "Latest address: " (labels::address(&a["address"]))
        } @else {
            "See the child's record"
        }
    }
}

fn ack_cell(me: &SignedIn, subscriber: &str, n: &ListedNotification, ice: bool) -> Markup {
    html! {
        @if let Some(at) = &n.acknowledged_at {
            "Acknowledged " (labels::instant(&at.0.to_rfc3339(), true))
            @if let Some(by) = &n.acknowledged_by { " by " (by) }
            @if n.follow_up == Some(true) { "; follow-up made" }
        } @else {
            form method="post" action={ "/inbox/" (subscriber) "/ack" } {
                input type="hidden" name="csrf" value=(me.csrf);
                input type="hidden" name="id" value=(n.notification.id);
                @if ice {
                    div class="usa-checkbox" {
                        input class="usa-checkbox__input" type="checkbox" id={ "follow-up-" (n.notification.id) } name="follow_up" value="true";
                        label class="usa-checkbox__label" for={ "follow-up-" (n.notification.id) } { "Follow-up made" }
                    }
                }
                button class="usa-button usa-button--small margin-top-1" type="submit" {
                    "Acknowledge" span class="usa-sr-only" { " notification " (n.notification.sequence) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AckForm {
    #[serde(default)]
    csrf: String,
    id: i64,
    follow_up: Option<String>,
}

pub async fn acknowledge(
    State(console): State<Arc<Console>>,
    Path(subscriber): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AckForm>,
) -> Result<Response, PageError> {
    let me = console.signed_in(&headers)?;
    console.check_csrf(&me, &form.csrf)?;
    let notify = notifier(&console)?;
    own(notify, &me, &subscriber)?;
    let row = outbox::get(&notify.store, form.id)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))?
        .filter(|r| r.notification.subscriber == subscriber)
        .ok_or_else(|| {
            PageError::NotFound(format!("{subscriber} has no notification {}", form.id))
        })?;
    let follow_up = form.follow_up.as_deref() == Some("true");
    record_ack(&notify.store, &row, &me.token, follow_up)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))?;
    Ok(Redirect::to(&format!("/inbox/{subscriber}?acked={}", form.id)).into_response())
}
