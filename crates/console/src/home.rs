//! `GET /`: the signed-in agency's worklists with how many children each
//! holds now, and the other lists its policy lets it read.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use handoff_views::queries::Paging;
use maud::{html, Markup};

use crate::layout::{page, Section};
use crate::table::thousands;
use crate::worklists::{Asked, WORKLISTS};
use crate::{labels, Console, PageError};

pub async fn home(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let me = console.signed_in(&headers)?;
    let agency = me.token.agency;
    let readable = WORKLISTS
        .iter()
        .filter(|w| console.views.policy.may_read(agency, w.view));
    let (own, other): (Vec<_>, Vec<_>) = readable.partition(|w| w.agency == agency);
    let count_only = Asked {
        paging: Paging {
            limit: 0,
            offset: 0,
        },
        ..Asked::default()
    };
    let mut cards = Vec::new();
    for w in &own {
        let total = w
            .fetch(&console.queries(), &count_only)
            .await
            .map_err(|e| PageError::Unavailable(e.to_string()))?
            .total;
        cards.push((w, total));
    }
    let content = html! {
        p class="usa-intro" { "Your agency's worklists, over the whole history Handoff holds. Open one to filter, sort and page through it." }
        ul class="usa-card-group" {
            @for (w, total) in &cards {
                li class="usa-card tablet:grid-col-4" {
                    div class="usa-card__container" {
                        div class="usa-card__header" {
                            h2 class="usa-card__heading" { (w.title) }
                        }
                        div class="usa-card__body" {
                            p class="font-heading-xl margin-y-1" data-worklist=(w.slug) data-total=(total) { (thousands(*total)) }
                            p { (w.question) }
                        }
                        div class="usa-card__footer" {
                            a class="usa-button" href={ "/worklists/" (w.slug) } { "Open" span class="usa-sr-only" { " " (w.title) } }
                        }
                    }
                }
            }
        }
        @if !other.is_empty() {
            h2 { "Other agencies' worklists your policy lets " (labels::agency(agency)) " read" }
            ul class="usa-list" {
                @for w in &other {
                    li { a class="usa-link" href={ "/worklists/" (w.slug) } { (w.title) } " (" (labels::agency(w.agency)) ")" }
                }
            }
        }
    };
    Ok(page("Worklists", Some(&me), Section::Worklists, content))
}
