//! The worklists: each agency's daily questions, as lists over the whole
//! history with filters, sorting and paging. Each is one of the API's
//! lists with fixed parameters (`api`), read with the same query and the
//! same policy view, so its count is the API's `total` for the same
//! filter, and the page links to that API call.

use handoff_events::{Agency, Timestamp};
use handoff_views::answers::Page;
use handoff_views::narrow::{sortable, Narrow, Sort};
use handoff_views::queries::{Paging, Queries};
use handoff_views::store::StoreError;
use serde_json::Value;

/// Which filters a worklist offers.
#[derive(Debug, Clone, Copy)]
pub struct Filters {
    pub aor: bool,
    pub court: bool,
    /// What the period (`since`, `until`) applies to, if it has one.
    pub period: Option<&'static str>,
    /// NTA age buckets.
    pub buckets: bool,
}

pub struct Worklist {
    /// Its path: `/worklists/{slug}`.
    pub slug: &'static str,
    /// Whose worklist it is (the policy still decides who may open it).
    pub agency: Agency,
    pub title: &'static str,
    pub question: &'static str,
    /// The policy view (and API list) it reads.
    pub view: &'static str,
    pub api_path: &'static str,
    /// The API parameters that make the API's list this worklist.
    pub fixed: &'static [(&'static str, &'static str)],
    pub filters: Filters,
    pub sortable: &'static [&'static str],
}

const AOR_COURT: Filters = Filters {
    aor: true,
    court: true,
    period: None,
    buckets: false,
};

pub const WORKLISTS: [Worklist; 6] = [
    Worklist {
        slug: "ice-missed-hearings",
        agency: Agency::Ice,
        title: "Missed hearings without follow-up",
        question: "Children who failed to appear at a hearing and whom ERO has not yet followed up.",
        view: "fta",
        api_path: "/v1/fta",
        fixed: &[("without_follow_up", "true")],
        filters: Filters {
            period: Some("Hearing date"),
            ..AOR_COURT
        },
        sortable: sortable::FTA,
    },
    Worklist {
        slug: "ice-nta-backlog",
        agency: Agency::Ice,
        title: "NTA backlog by age",
        question: "Released children never served a Notice to Appear, by days since release.",
        view: "nta_backlog",
        api_path: "/v1/nta-backlog",
        fixed: &[],
        filters: Filters {
            period: Some("Release date"),
            buckets: true,
            ..AOR_COURT
        },
        sortable: sortable::NTA_BACKLOG,
    },
    Worklist {
        slug: "ice-safety-concerns",
        agency: Agency::Ice,
        title: "Open safety concerns",
        question: "Children with a safety concern raised and not yet closed.",
        view: "ice",
        api_path: "/v1/views/ice",
        fixed: &[("open_safety_concerns", "true")],
        filters: AOR_COURT,
        sortable: sortable::ICE,
    },
    Worklist {
        slug: "orr-missed-hearings",
        agency: Agency::HhsOrr,
        title: "Released children who missed a hearing",
        question: "The trigger for post-release services: a released child failed to appear.",
        view: "hhs_orr",
        api_path: "/v1/views/hhs_orr",
        fixed: &[("missed_hearing", "true")],
        filters: Filters {
            aor: false,
            court: true,
            period: Some("Last missed hearing"),
            buckets: false,
        },
        sortable: sortable::HHS_ORR,
    },
    Worklist {
        slug: "orr-upcoming-hearings",
        agency: Agency::HhsOrr,
        title: "Hearings in the next 14 days",
        question: "Hearings still on the calendar in the 14 days after the date shown, so a sponsor can be reminded.",
        view: "hearings_upcoming",
        api_path: "/v1/hearings/upcoming",
        fixed: &[("days", "14")],
        filters: Filters {
            aor: false,
            court: true,
            period: None,
            buckets: false,
        },
        sortable: sortable::UPCOMING,
    },
    Worklist {
        slug: "eoir-address-differs",
        agency: Agency::DojEoir,
        title: "Open cases with another agency's newer address",
        question: "Open cases whose latest known address is not the one EOIR holds: notices may be going to the wrong place.",
        view: "doj_eoir",
        api_path: "/v1/views/doj_eoir",
        fixed: &[("address_differs", "true")],
        filters: Filters {
            aor: false,
            court: true,
            period: None,
            buckets: false,
        },
        sortable: sortable::DOJ_EOIR,
    },
];

pub fn find(slug: &str) -> Option<&'static Worklist> {
    WORKLISTS.iter().find(|w| w.slug == slug)
}

/// NTA age buckets: (label, older than, up to) days since release.
pub const BUCKETS: [(&str, i64, Option<i64>); 5] = [
    ("over-60", 60, None),
    ("60-90", 60, Some(90)),
    ("90-180", 90, Some(180)),
    ("180-365", 180, Some(365)),
    ("over-365", 365, None),
];

pub fn bucket(name: &str) -> Option<(i64, Option<i64>)> {
    BUCKETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, older, up_to)| (*older, *up_to))
}

/// What a worklist is asked for: its filters, sort, date and page.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub narrow: Narrow,
    pub sort: Sort,
    /// `None`: now.
    pub as_of: Option<Timestamp>,
    /// The NTA bucket's lower bound (days since release).
    pub older_than_days: Option<i64>,
    pub paging: Paging,
}

impl Worklist {
    /// One page of the worklist, as the API's items (JSON) before the
    /// policy's filter.
    pub async fn fetch(&self, q: &Queries<'_>, asked: &Asked) -> Result<Page<Value>, StoreError> {
        let as_of = asked.as_of.unwrap_or_else(Timestamp::now);
        let (narrow, sort, paging) = (&asked.narrow, asked.sort, asked.paging);
        Ok(match self.slug {
            "ice-missed-hearings" => {
                let narrow = Narrow {
                    without_follow_up: true,
                    ..narrow.clone()
                };
                q.ftas(&narrow, sort, paging).await?.map(json)
            }
            "ice-nta-backlog" => {
                let older = asked.older_than_days.unwrap_or(60);
                q.nta_backlog(older, narrow, sort, as_of, paging)
                    .await?
                    .map(json)
            }
            "ice-safety-concerns" => {
                let narrow = Narrow {
                    open_safety_concerns: true,
                    ..narrow.clone()
                };
                q.ice_view(&narrow, sort, as_of, paging).await?.map(json)
            }
            "orr-missed-hearings" => {
                let narrow = Narrow {
                    missed_hearing: true,
                    ..narrow.clone()
                };
                q.orr_view(&narrow, sort, as_of, paging).await?.map(json)
            }
            "orr-upcoming-hearings" => q
                .upcoming_hearings(14, narrow, sort, as_of, paging)
                .await?
                .map(json),
            _ => {
                let narrow = Narrow {
                    address_differs: true,
                    ..narrow.clone()
                };
                q.eoir_view(&narrow, sort, as_of, paging).await?.map(json)
            }
        })
    }

    /// The API call that answers the same list (without paging): its path
    /// and query.
    pub fn api_call(&self, asked: &Asked) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.fixed {
            q.append_pair(k, v);
        }
        let n = &asked.narrow;
        if let Some(aor) = &n.aor {
            q.append_pair("aor", aor);
        }
        if let Some(court) = &n.court {
            q.append_pair("court", court);
        }
        if let Some(since) = n.since {
            q.append_pair("since", &since.to_rfc3339());
        }
        if let Some(until) = n.until {
            q.append_pair("until", &until.to_rfc3339());
        }
        if let Some(older) = asked.older_than_days {
            q.append_pair("older_than_days", &older.to_string());
        }
        if let Some(up_to) = n.up_to_days {
            q.append_pair("up_to_days", &up_to.to_string());
        }
        if let Some(as_of) = asked.as_of {
            q.append_pair("as_of", &as_of.to_rfc3339());
        }
        if let Some(sort) = asked.sort.spelled() {
            q.append_pair("sort", &sort);
        }
        let query = q.finish();
        if query.is_empty() {
            self.api_path.to_owned()
        } else {
            format!("{}?{query}", self.api_path)
        }
    }
}

fn json(item: impl serde::Serialize) -> Value {
    serde_json::to_value(item).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_worklist_reads_a_view_the_policy_knows_and_sorts_by_its_columns() {
        let views: Vec<&str> = handoff_views::policy::all_views()
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        for w in &WORKLISTS {
            assert!(views.contains(&w.view), "{}", w.slug);
            assert_eq!(find(w.slug).map(|f| f.title), Some(w.title));
        }
        let asked = Asked {
            narrow: Narrow {
                aor: Some("HOU".into()),
                up_to_days: Some(90),
                ..Narrow::default()
            },
            older_than_days: Some(60),
            sort: Sort::parse("-released_at", sortable::NTA_BACKLOG).unwrap(),
            ..Asked::default()
        };
        assert_eq!(
            find("ice-nta-backlog").unwrap().api_call(&asked),
            "/v1/nta-backlog?aor=HOU&older_than_days=60&up_to_days=90&sort=-released_at"
        );
        assert_eq!(bucket("90-180"), Some((90, Some(180))));
    }
}
