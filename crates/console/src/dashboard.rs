//! The analysts' dashboard: the four reports of `handoff report` (FTAs by
//! fiscal year, the NTA backlog by age, address quality, discrepancies)
//! as of a date, each as a bar chart with its table beside it (the
//! chart's text alternative), and each downloadable as CSV, SVG and JSON.
//! Reports are counts, with no child's data, so every signed-in agency
//! may read them.
//!
//! The charts are drawn here as SVG rather than by the command line's
//! plotters backend: inline in the page, each bar carries its own title
//! (read by screen readers and shown on hover) and value.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use handoff_events::Timestamp;
use handoff_replay::report::{self, chart, Source, Table};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use crate::labels::sentence;
use crate::layout::{page, Section};
use crate::table::{table, Column};
use crate::{Console, PageError};

pub const REPORTS: [&str; 4] = [
    "fta-by-fiscal-year",
    "nta-backlog",
    "address-quality",
    "discrepancies",
];

const PALETTE: [&str; 4] = ["#005ea2", "#c05600", "#00a91c", "#8b0a03"];

#[derive(Debug, Default, Deserialize)]
pub struct AsOf {
    as_of: Option<String>,
}

impl AsOf {
    /// The end of the date asked for (so it counts that day), or now.
    fn instant(&self) -> Result<Timestamp, PageError> {
        match self
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(Timestamp::now()),
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(|d| Timestamp::start_of(d.succ_opt().unwrap_or(d)))
                .map_err(|_| {
                    PageError::BadInput("as_of", format!("{raw:?} is not a date; use YYYY-MM-DD"))
                }),
        }
    }
}

async fn run(console: &Console, name: &str, as_of: Timestamp) -> Result<Table, PageError> {
    let source = Source {
        store: &console.views.store,
        catalogue: console.views.catalogue.clone(),
        as_of,
    };
    report::run(&source, name, None)
        .await
        .map_err(|e| PageError::Unavailable(e.to_string()))
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Query(q): Query<AsOf>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let as_of = q.instant()?;
    let date = q.as_of.clone().filter(|s| !s.trim().is_empty());
    let suffix = date
        .as_ref()
        .map(|d| format!("?as_of={d}"))
        .unwrap_or_default();
    let mut sections = Vec::new();
    for name in REPORTS {
        let t = run(&console, name, as_of).await?;
        sections.push(html! {
            section class="margin-top-5" aria-labelledby={ "report-" (name) } {
                h2 id={ "report-" (name) } { (t.title) }
                @if let Some(svg) = svg(&t) {
                    figure class="handoff-chart margin-x-0" data-report=(name) {
                        (PreEscaped(svg))
                        figcaption class="font-body-2xs" { "The table below gives every number in the chart." }
                    }
                }
                (report_table(&t))
                ul class="usa-button-group margin-top-1" {
                    @for ext in ["csv", "svg", "json"] {
                        li class="usa-button-group__item" {
                            a class="usa-button usa-button--outline usa-button--small" href={ "/dashboard/" (name) "." (ext) (suffix) } download {
                                "Download " (ext.to_uppercase()) span class="usa-sr-only" { " of " (t.title) }
                            }
                        }
                    }
                }
            }
        });
    }
    let content = html! {
        p class="usa-intro" { "What happened, counted over the whole history Handoff holds, up to the date you choose." }
        form class="usa-form" method="get" action="/dashboard" {
            label class="usa-label" for="as_of" { "As of" }
            span class="usa-hint" id="as_of-hint" { "Counts up to the end of this day. Empty: now." }
            input class="usa-input" id="as_of" name="as_of" type="date" value=[date.as_deref()] aria-describedby="as_of-hint";
            button class="usa-button margin-top-2" type="submit" { "Show" }
        }
        @for s in sections { (s) }
    };
    Ok(page("Dashboard", Some(&me), Section::Dashboard, content))
}

/// `/dashboard/{report}.{csv,svg,json}`.
pub async fn download(
    State(console): State<Arc<Console>>,
    Path(file): Path<String>,
    Query(q): Query<AsOf>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    console.signed_in(&headers)?;
    let (name, ext) = file
        .rsplit_once('.')
        .filter(|(n, e)| REPORTS.contains(n) && ["csv", "svg", "json"].contains(e))
        .ok_or_else(|| {
            PageError::NotFound(format!(
                "no report file {file:?}; the reports are {}, as .csv, .svg or .json",
                REPORTS.join(", ")
            ))
        })?;
    let t = run(&console, name, q.instant()?).await?;
    let (body, kind) = match ext {
        "csv" => (t.to_csv(), "text/csv; charset=utf-8"),
        "json" => (t.to_json().to_string(), "application/json"),
        _ => (
            svg(&t)
                .ok_or_else(|| PageError::NotFound(format!("the {name} report has no chart")))?,
            "image/svg+xml",
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn report_table(t: &Table) -> Markup {
    let columns: Vec<Column> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| Column::plain(sentence(c), i > 0))
        .collect();
    let rows: Vec<Vec<Markup>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => html! { (s) },
                    serde_json::Value::Null => html! { "—" },
                    other => html! { (other) },
                })
                .collect()
        })
        .collect();
    table(
        html! { (t.title) ", as of " (crate::labels::instant(&t.as_of, true)) },
        &columns,
        &rows,
    )
}

/// The report as grouped bars: one group per row (the total row left
/// out, as on the command line), one bar per counted column. A
/// standalone SVG document (it is also the download), with a title and
/// description for the whole and a title on each bar.
pub fn svg(t: &Table) -> Option<String> {
    let groups = chart::groups(t)?;
    let series: Vec<&str> = t.chart.as_ref().map_or(vec![], |(_, v)| {
        v.iter().map(|&i| t.columns[i].as_str()).collect()
    });
    let top = groups
        .iter()
        .flat_map(|(_, b)| b.iter().copied())
        .fold(1.0, f64::max);
    let (left, bottom, plot_h, group_w) = (60.0, 60.0, 240.0, 110.0);
    let width = left + group_w * groups.len() as f64 + 20.0;
    let height = plot_h + bottom + 20.0 + 20.0 * series.len() as f64;
    let bar_w = 80.0 / series.len().max(1) as f64;
    let id = format!("chart-{}", t.report);
    let description = groups
        .iter()
        .map(|(g, bars)| {
            let parts: Vec<String> = series
                .iter()
                .zip(bars)
                .map(|(s, v)| format!("{} {v}", sentence(s)))
                .collect();
            format!("{g}: {}", parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let markup = html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height)
            aria-labelledby={ (id) "-title " (id) "-desc" } data-report=(t.report) {
            title id={ (id) "-title" } { (t.title) }
            desc id={ (id) "-desc" } { (description) }
            line x1=(left) y1="20" x2=(left) y2=(20.0 + plot_h) stroke="#1b1b1b" {}
            line x1=(left) y1=(20.0 + plot_h) x2=(width - 10.0) y2=(20.0 + plot_h) stroke="#1b1b1b" {}
            text x=(left - 6.0) y="26" text-anchor="end" font-size="12" font-family="sans-serif" { (top) }
            text x=(left - 6.0) y=(20.0 + plot_h) text-anchor="end" font-size="12" font-family="sans-serif" { "0" }
            @for (g, (name, bars)) in groups.iter().enumerate() {
                @for (s, value) in bars.iter().enumerate() {
                    @let h = plot_h * value / top;
                    @let x = left + 15.0 + g as f64 * group_w + s as f64 * bar_w;
                    rect x=(x) y=(20.0 + plot_h - h) width=(bar_w - 2.0) height=(h) fill=(PALETTE[s % PALETTE.len()])
                        data-group=(name) data-series=(series[s]) data-value=(value) {
                        title { (name) ", " (sentence(series[s])) ": " (value) }
                    }
                }
                text x=(left + 15.0 + g as f64 * group_w + 40.0) y=(20.0 + plot_h + 18.0) text-anchor="middle" font-size="12" font-family="sans-serif" { (name) }
            }
            @for (s, name) in series.iter().enumerate() {
                @let y = plot_h + bottom + 10.0 + 20.0 * s as f64;
                rect x=(left) y=(y - 10.0) width="12" height="12" fill=(PALETTE[s % PALETTE.len()]) {}
                text x=(left + 18.0) y=(y) font-size="12" font-family="sans-serif" { (sentence(name)) }
            }
        }
    };
    Some(markup.into_string())
}
