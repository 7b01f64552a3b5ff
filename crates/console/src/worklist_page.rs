//! `GET /worklists/{slug}`: one worklist, filtered, sorted and paged, with
//! the fields the agency's policy grants for the list it reads, and every
//! A-number on it audited. Filters are a plain GET form, sorting and
//! paging plain links: the page works without JavaScript.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::NaiveDate;
use handoff_events::{Agency, Timestamp};
use handoff_views::narrow::{Narrow, Sort};
use handoff_views::queries::Paging;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::labels;
use crate::layout::{page, Section};
use crate::session::SignedIn;
use crate::table::{pagination, table, thousands, Column};
use crate::worklists::{self, Asked, Worklist, BUCKETS};
use crate::{Console, PageError};

pub const PAGE_SIZE: i64 = 50;

/// The worklist's query string, as the filter form and the links send it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorklistQuery {
    aor: Option<String>,
    court: Option<String>,
    since: Option<String>,
    until: Option<String>,
    bucket: Option<String>,
    as_of: Option<String>,
    sort: Option<String>,
    offset: Option<String>,
}

/// A form field's value, if it was filled in.
fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date field: its start, or with `end` the start of the next day.
fn date(
    field: &'static str,
    v: &Option<String>,
    end: bool,
) -> Result<Option<Timestamp>, PageError> {
    let Some(raw) = filled(v) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        PageError::BadInput(
            field,
            format!("{raw:?} is not a date; use the form YYYY-MM-DD"),
        )
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(Some(Timestamp::start_of(day)))
}

impl WorklistQuery {
    fn asked(&self, w: &Worklist) -> Result<Asked, PageError> {
        let upper = |v: &Option<String>| filled(v).map(str::to_uppercase);
        let mut narrow = Narrow {
            aor: upper(&self.aor).filter(|_| w.filters.aor),
            court: upper(&self.court).filter(|_| w.filters.court),
            ..Narrow::default()
        };
        if w.filters.period.is_some() {
            narrow.since = date("since", &self.since, false)?;
            narrow.until = date("until", &self.until, true)?;
        }
        let mut older_than_days = None;
        if w.filters.buckets {
            let name = filled(&self.bucket).unwrap_or("over-60");
            let (older, up_to) = worklists::bucket(name).ok_or_else(|| {
                PageError::BadInput(
                    "bucket",
                    format!("no age bucket {name:?}; choose one from the list"),
                )
            })?;
            older_than_days = Some(older);
            narrow.up_to_days = up_to;
        }
        let sort = match filled(&self.sort) {
            None => Sort::default(),
            Some(raw) => {
                Sort::parse(raw, w.sortable).map_err(|e| PageError::BadInput("sort", e))?
            }
        };
        let offset = match filled(&self.offset) {
            None => 0,
            Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                PageError::BadInput("offset", format!("{raw:?} is not a row number"))
            })?,
        };
        Ok(Asked {
            narrow,
            sort,
            as_of: date("as_of", &self.as_of, true)?,
            older_than_days,
            paging: Paging {
                limit: PAGE_SIZE,
                offset,
            },
        })
    }

    /// This page's link with `key` set to `value` (or removed), and the
    /// offset back to the first page unless it is the key.
    fn with(&self, slug: &str, key: &str, value: Option<String>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("aor", &self.aor),
            ("court", &self.court),
            ("since", &self.since),
            ("until", &self.until),
            ("bucket", &self.bucket),
            ("as_of", &self.as_of),
            ("sort", &self.sort),
            ("offset", &self.offset),
        ];
        for (name, v) in fields {
            if name == key || name == "offset" {
                continue;
            }
            if let Some(v) = filled(v) {
                q.append_pair(name, v);
            }
        }
        if let Some(v) = value {
            q.append_pair(key, &v);
        }
        let query = q.finish();
        if query.is_empty() {
            format!("/worklists/{slug}")
        } else {
            format!("/worklists/{slug}?{query}")
        }
    }
}

/// The fields `agency` may read of `view`, in the answer's own order.
pub fn granted_fields(console: &Console, agency: Agency, view: &str) -> Vec<String> {
    handoff_views::policy::all_views()
        .into_iter()
        .find(|(v, _)| *v == view)
        .map(|(_, fields)| fields)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| console.views.policy.allows(agency, view, f))
        .collect()
}

/// Refuses a list the policy does not grant, with a page saying so.
pub fn may_read(console: &Console, me: &SignedIn, view: &str, what: &str) -> Result<(), PageError> {
    if console.views.policy.may_read(me.token.agency, view) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "The data-sharing policy (deploy/policy.toml) does not grant {} the `{view}` list that {what} reads.",
            labels::agency(me.token.agency)
        )))
    }
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Path(slug): Path<String>,
    Query(q): Query<WorklistQuery>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let w = worklists::find(&slug)
        .ok_or_else(|| PageError::NotFound(format!("there is no worklist called {slug:?}")))?;
    may_read(&console, &me, w.view, "this worklist")?;
    let asked = q.asked(w)?;
    let found = w
        .fetch(&console.queries(), &asked)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))?;
    let agency = me.token.agency;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|i| console.views.policy.filter(agency, w.view, i))
        .collect();
    let a_numbers: Vec<String> = items
        .iter()
        .filter_map(|i| i["a_number"].as_str().map(str::to_owned))
        .collect();
    console
        .audit(&me, &format!("GET /worklists/{}", w.slug), &a_numbers)
        .await?;

    let fields = granted_fields(&console, agency, w.view);
    let columns: Vec<Column> = fields
        .iter()
        .map(|f| {
            let sortable = w.sortable.contains(&f.as_str());
            let sorted =
                (asked.sort.column == Some(f.as_str())).then_some(if asked.sort.descending {
                    "descending"
                } else {
                    "ascending"
                });
            let next = if sorted == Some("ascending") {
                format!("-{f}")
            } else {
                f.clone()
            };
            Column {
                heading: labels::heading(f),
                numeric: labels::numeric(f),
                sort_link: sortable.then(|| q.with(w.slug, "sort", Some(next))),
                sorted,
            }
        })
        .collect();
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|item| {
            fields
                .iter()
                .map(|f| match (f.as_str(), item[f].as_str()) {
                    ("a_number", Some(a)) => {
                        let handle = console.sessions.handle(&me, a);
                        html! { a class="usa-link" href={ "/children/" (handle) } { (a) } }
                    }
                    _ => labels::value(f, &item[f]),
                })
                .collect()
        })
        .collect();
    let api = w.api_call(&asked);
    let content = html! {
        p class="usa-intro" { (w.question) }
        (filters(w, &q))
        (table(
            html! { (w.title) ": " (thousands(found.total)) " in all" },
            &columns,
            &rows,
        ))
        (pagination(found.offset, rows.len(), found.total, PAGE_SIZE, |offset| {
            q.with(w.slug, "offset", Some(offset.to_string()))
        }))
        p class="font-body-2xs text-base" {
            "The same list from the API: " code data-api=(api) { "GET " (api) }
        }
    };
    Ok(page(w.title, Some(&me), Section::Worklists, content))
}

fn filters(w: &Worklist, q: &WorklistQuery) -> Markup {
    let v = |x: &Option<String>| filled(x).unwrap_or_default().to_owned();
    html! {
        form class="usa-form maxw-none handoff-filters" method="get" action={ "/worklists/" (w.slug) } {
            fieldset class="usa-fieldset" {
                legend class="usa-legend" { "Filter the list" }
                div class="grid-row grid-gap-2" {
                    @if w.filters.aor {
                        div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                            label class="usa-label" for="aor" { "Area of responsibility" }
                            input class="usa-input" id="aor" name="aor" value=(v(&q.aor)) placeholder="HOU";
                        }
                    }
                    @if w.filters.court {
                        div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                            label class="usa-label" for="court" { "Court" }
                            input class="usa-input" id="court" name="court" value=(v(&q.court)) placeholder="SFR";
                        }
                    }
                    @if let Some(period) = w.filters.period {
                        div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                            label class="usa-label" for="since" { (period) " from" }
                            input class="usa-input" id="since" name="since" type="date" value=(v(&q.since));
                        }
                        div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                            label class="usa-label" for="until" { (period) " to" }
                            input class="usa-input" id="until" name="until" type="date" value=(v(&q.until));
                        }
                    }
                    @if w.filters.buckets {
                        div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                            label class="usa-label" for="bucket" { "Days since release" }
                            select class="usa-select" id="bucket" name="bucket" {
                                @for (name, _, _) in BUCKETS {
                                    option value=(name) selected[filled(&q.bucket).unwrap_or("over-60") == name] {
                                        (name.replace("over-", "over ").replace('-', " to "))
                                    }
                                }
                            }
                        }
                    }
                    div class="usa-form-group grid-col-6 tablet:grid-col-2" {
                        label class="usa-label" for="as_of" { "As of" }
                        input class="usa-input" id="as_of" name="as_of" type="date" value=(v(&q.as_of)) aria-describedby="as_of-hint";
                        span class="usa-hint" id="as_of-hint" { "Empty: today" }
                    }
                }
                @if let Some(sort) = filled(&q.sort) {
                    input type="hidden" name="sort" value=(sort);
                }
                button class="usa-button margin-top-2" type="submit" { "Apply filters" }
                a class="usa-button usa-button--unstyled margin-left-2" href={ "/worklists/" (w.slug) } { "Clear" }
            }
        }
    }
}
