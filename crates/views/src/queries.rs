//! The reads behind the HTTP API: one child, and the agency views and
//! lists, each a page of JSON items. Every list is ordered by a unique
//! key, so pages never overlap or skip. Date-dependent answers (next
//! hearing, NTA age, hearings passed without an outcome, the NTA backlog)
//! are computed for the `as_of` instant asked about.

use handoff_events::{Address, Catalogue, Event, Timestamp};
use handoff_http::{AgencyName, Symbol, Time};
use serde::de::DeserializeOwned;

use crate::answers::{
    EoirCase, Finding, IceChild, MissedHearing, OrrChild, Page, UnservedNta, UpcomingHearing,
};
use crate::child::{ChildState, NtaStatus};
use crate::narrow::{Narrow, Sort};
use crate::projection::events_of;
use crate::rows::DATA_QUALITY_KINDS;
use crate::store::{Store, StoreError, Value};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            limit: 100,
            offset: 0,
        }
    }
}

/// A list query: its WHERE conditions and their parameters, built from
/// only the filters given (so no statement needs a typed NULL).
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    /// Adds a condition; `$` in it stands for the next parameter.
    fn and(&mut self, condition: &str, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        self.conditions
            .push(condition.replace('$', &format!("?{}", self.params.len())));
        self
    }

    fn and_always(&mut self, condition: &str) -> &mut Self {
        self.conditions.push(condition.to_owned());
        self
    }

    /// Adds a condition when the value is there.
    fn and_some(&mut self, condition: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(value) = value {
            self.and(condition, value);
        }
        self
    }

    /// Adds a condition when `wanted`.
    fn and_if(&mut self, wanted: bool, condition: &str) -> &mut Self {
        if wanted {
            self.and_always(condition);
        }
        self
    }

    /// `column` within the narrowing's period.
    fn within(&mut self, column: &str, narrow: &Narrow) -> &mut Self {
        self.and_some(&format!("{column} >= $"), narrow.since.map(|t| t.0))
            .and_some(&format!("{column} < $"), narrow.until.map(|t| t.0))
    }

    fn clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }
}

fn time(v: &Value) -> Option<Time> {
    v.as_i64().map(|ms| Time(Timestamp(ms)))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn boolean(v: &Value) -> Option<bool> {
    v.as_i64().map(|n| n != 0)
}

/// A stored lower-case name (`open`, `not_located`) as its answer enum.
fn named<T: DeserializeOwned>(v: &Value) -> Option<T> {
    v.as_str()
        .and_then(|s| serde_json::from_value(s.into()).ok())
}

/// A stored symbol as the events' enumeration it names, in any case.
fn symbol<E: DeserializeOwned>(v: &Value) -> Option<Symbol<E>> {
    v.as_str()
        .and_then(|s| serde_json::from_value(s.to_uppercase().into()).ok())
        .map(Symbol)
}

fn agency(v: &Value) -> Option<AgencyName> {
    v.as_str().and_then(AgencyName::from_symbol)
}

fn address(v: &Value) -> Option<handoff_http::PostalAddress> {
    v.as_str()
        .and_then(|s| serde_json::from_str::<Address>(s).ok())
        .map(|a| (&a).into())
}

fn days_between(from: &Value, to: Timestamp) -> Option<i64> {
    from.as_i64().map(|at| (to.0 - at).div_euclid(DAY_MS))
}

/// A list query: `select` (which may use `select_params`, numbered after
/// the filter's) over `filter`'s rows in `order`.
struct List<'a> {
    select: &'a str,
    from: &'a str,
    filter: Filter,
    select_params: Vec<Value>,
    order: String,
}

/// Runs a list query for one page plus the total count.
async fn page<T>(
    store: &Store,
    list: List<'_>,
    paging: Paging,
    item: impl Fn(&[Value]) -> T,
) -> Result<Page<T>, StoreError> {
    let from_where = format!("FROM {} {}", list.from, list.filter.clause());
    let total = store
        .query(
            &format!("SELECT COUNT(*) {from_where}"),
            list.filter.params.clone(),
        )
        .await?
        .first()
        .and_then(|r| r[0].as_i64())
        .unwrap_or(0);
    if paging.limit == 0 {
        // A count only (the console's home page, the data-quality
        // summary): no page to read.
        return Ok(Page {
            items: Vec::new(),
            total,
            offset: paging.offset,
            next_offset: (paging.offset < total).then_some(paging.offset),
        });
    }
    let mut with_page = list.filter.params;
    with_page.extend(list.select_params);
    let n = with_page.len();
    let (select, order) = (list.select, list.order);
    with_page.push(paging.limit.into());
    with_page.push(paging.offset.into());
    let rows = store
        .query(
            &format!(
                "{select} {from_where} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            ),
            with_page,
        )
        .await?;
    let items: Vec<T> = rows.iter().map(|r| item(r)).collect();
    let end = paging.offset + items.len() as i64;
    Ok(Page {
        next_offset: (end < total).then_some(end),
        items,
        total,
        offset: paging.offset,
    })
}

/// The first hearing still on the calendar after `?N`.
fn next_hearing(param: usize) -> String {
    format!(
        "(SELECT MIN(h.hearing_at) FROM hearings h WHERE h.a_number = c.a_number AND h.status = 'scheduled' AND h.hearing_at > ?{param})"
    )
}

pub struct Queries<'a> {
    pub store: &'a Store,
    pub catalogue: &'a Catalogue,
}

impl Queries<'_> {
    /// One child's merged state, re-folded from its stored events.
    pub async fn child(&self, a_number: &str) -> Result<Option<ChildState>, StoreError> {
        let events = self.stored_events(a_number).await?;
        Ok((!events.is_empty()).then(|| ChildState::from_events(a_number, &events)))
    }

    /// One child's stored events, in the order its story is told.
    pub async fn events(&self, a_number: &str) -> Result<Vec<Event>, StoreError> {
        let events = self.stored_events(a_number).await?;
        Ok(crate::child::in_fold_order(&events)
            .into_iter()
            .cloned()
            .collect())
    }

    async fn stored_events(&self, a_number: &str) -> Result<Vec<Event>, StoreError> {
        events_of(self.store, self.catalogue, a_number)
            .await
            .map_err(|e| StoreError {
                location: self.store.location().describe(),
                message: e.to_string(),
            })
    }

    /// The columns of `children` (and two derived) the agency views read,
    /// over the rows `filter` keeps, for `as_of`.
    async fn children<T>(
        &self,
        filter: Filter,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
        item: impl Fn(&Columns) -> T,
    ) -> Result<Page<T>, StoreError> {
        let select = format!(
            "SELECT c.a_number, c.area_of_responsibility, c.nta_status, c.nta_status_at, c.court, c.court_status,
                    {next}, c.fta_count,
                    (SELECT COUNT(*) FROM ftas f WHERE f.a_number = c.a_number AND f.follow_up IS NULL),
                    c.latest_address, c.latest_address_agency, c.latest_address_at, c.open_safety_concerns,
                    c.released_at, c.last_fta_at, c.address_differs_from_eoir, c.represented",
            // as_of is the first parameter after the filter's.
            next = next_hearing(filter.params.len() + 1)
        );
        let list = List {
            select: &select,
            from: "children c",
            filter,
            select_params: vec![as_of.0.into()],
            order: sort.clause("c.", "c.a_number"),
        };
        page(self.store, list, paging, |r| item(&Columns { r, as_of })).await
    }

    /// ICE's view: every child ICE knows.
    pub async fn ice_view(
        &self,
        narrow: &Narrow,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<IceChild>, StoreError> {
        let mut f = Filter::default();
        f.and_always("c.agencies LIKE '%ICE%'")
            .and_some("c.area_of_responsibility = $", narrow.aor.clone())
            .and_some("c.court = $", narrow.court.clone())
            .and_if(narrow.open_safety_concerns, "c.open_safety_concerns > 0");
        self.children(f, sort, as_of, paging, |c| {
            let r = c.r;
            IceChild {
                a_number: text(&r[0]),
                area_of_responsibility: text(&r[1]),
                nta_status: named(&r[2]),
                nta_status_at: time(&r[3]),
                nta_age_days: days_between(&r[3], c.as_of),
                court: text(&r[4]),
                court_status: named(&r[5]),
                next_hearing_at: time(&r[6]),
                fta_count: r[7].as_i64(),
                ftas_without_follow_up: r[8].as_i64(),
                latest_address: address(&r[9]),
                latest_address_agency: agency(&r[10]),
                latest_address_at: time(&r[11]),
                open_safety_concerns: r[12].as_i64(),
            }
        })
        .await
    }

    /// ORR's view: released children.
    pub async fn orr_view(
        &self,
        narrow: &Narrow,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<OrrChild>, StoreError> {
        let mut f = Filter::default();
        f.and_always("c.released_at IS NOT NULL")
            .and_some("c.court = $", narrow.court.clone())
            .and_if(narrow.missed_hearing, "c.fta_count > 0")
            .within("c.last_fta_at", narrow);
        self.children(f, sort, as_of, paging, |c| {
            let r = c.r;
            OrrChild {
                a_number: text(&r[0]),
                released_at: time(&r[13]),
                nta_status: named(&r[2]),
                court: text(&r[4]),
                court_status: named(&r[5]),
                next_hearing_at: time(&r[6]),
                fta_count: r[7].as_i64(),
                last_fta_at: time(&r[14]),
            }
        })
        .await
    }

    /// EOIR's view: open cases.
    pub async fn eoir_view(
        &self,
        narrow: &Narrow,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<EoirCase>, StoreError> {
        let mut f = Filter::default();
        f.and_always("c.court_status = 'open'")
            .and_some("c.court = $", narrow.court.clone())
            .and_if(narrow.address_differs, "c.address_differs_from_eoir = 1");
        self.children(f, sort, as_of, paging, |c| {
            let r = c.r;
            EoirCase {
                a_number: text(&r[0]),
                court: text(&r[4]),
                court_status: named(&r[5]),
                next_hearing_at: time(&r[6]),
                latest_address: address(&r[9]),
                latest_address_agency: agency(&r[10]),
                latest_address_at: time(&r[11]),
                address_differs_from_eoir: boolean(&r[15]),
                represented: boolean(&r[16]),
            }
        })
        .await
    }

    /// Missed hearings, oldest first.
    pub async fn ftas(
        &self,
        narrow: &Narrow,
        sort: Sort,
        paging: Paging,
    ) -> Result<Page<MissedHearing>, StoreError> {
        let mut f = Filter::default();
        f.within("hearing_at", narrow)
            .and_some("area_of_responsibility = $", narrow.aor.clone())
            .and_some("court = $", narrow.court.clone())
            .and_if(narrow.without_follow_up, "follow_up IS NULL");
        let list = List {
            select: "SELECT a_number, hearing_at, court, area_of_responsibility, follow_up, opla_recorded",
            from: "ftas",
            filter: f,
            select_params: vec![],
            order: sort.clause("", "hearing_at, a_number"),
        };
        page(self.store, list, paging, |r| MissedHearing {
            a_number: text(&r[0]),
            hearing_at: time(&r[1]),
            court: text(&r[2]),
            area_of_responsibility: text(&r[3]),
            follow_up: symbol(&r[4]),
            opla_recorded: boolean(&r[5]),
        })
        .await
    }

    /// Released children not served an NTA more than `older_than_days`
    /// after release, as of `as_of`, longest waiting first.
    pub async fn nta_backlog(
        &self,
        older_than_days: i64,
        narrow: &Narrow,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<UnservedNta>, StoreError> {
        let mut f = Filter::default();
        f.and_always("released_at IS NOT NULL")
            .and_always("nta_served_at IS NULL")
            .and_always("nta_status IN ('none', 'issued')")
            .and(
                "released_at < $",
                as_of.0.saturating_sub(older_than_days * DAY_MS),
            )
            .and_some(
                "released_at >= $",
                narrow
                    .up_to_days
                    .map(|days| as_of.0.saturating_sub(days * DAY_MS)),
            )
            .within("released_at", narrow)
            .and_some("area_of_responsibility = $", narrow.aor.clone())
            .and_some("court = $", narrow.court.clone());
        let list = List {
            select: "SELECT a_number, released_at, nta_status, area_of_responsibility",
            from: "children",
            filter: f,
            select_params: vec![],
            order: sort.clause("", "released_at, a_number"),
        };
        page(self.store, list, paging, |r| UnservedNta {
            a_number: text(&r[0]),
            released_at: time(&r[1]),
            days_since_release: days_between(&r[1], as_of),
            nta_status: named(&r[2]),
            area_of_responsibility: text(&r[3]),
        })
        .await
    }

    /// Hearings still on the calendar in the `days` after `as_of`.
    pub async fn upcoming_hearings(
        &self,
        days: i64,
        narrow: &Narrow,
        sort: Sort,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<UpcomingHearing>, StoreError> {
        let mut f = Filter::default();
        f.and_always("status = 'scheduled'")
            .and("hearing_at > $", as_of.0)
            .and("hearing_at <= $", as_of.0.saturating_add(days * DAY_MS))
            .and_some("court = $", narrow.court.clone());
        let list = List {
            select: "SELECT a_number, hearing_at, court, schedule_id",
            from: "hearings",
            filter: f,
            select_params: vec![],
            order: sort.clause("", "hearing_at, a_number, schedule_id"),
        };
        page(self.store, list, paging, |r| UpcomingHearing {
            a_number: text(&r[0]),
            hearing_at: time(&r[1]),
            court: text(&r[2]),
            schedule_id: text(&r[3]),
        })
        .await
    }

    /// The findings of one data-quality kind (`DATA_QUALITY_KINDS`).
    pub async fn data_quality(
        &self,
        kind: &str,
        nta_days: i64,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page<Finding>, StoreError> {
        let finding = |a_number: Option<String>, detail: Option<String>| Finding {
            a_number,
            kind: Some(kind.to_owned()),
            detail,
        };
        match kind {
            "nta_not_served" => Ok(self
                .nta_backlog(nta_days, &Narrow::default(), Sort::default(), as_of, paging)
                .await?
                .map(|item| {
                    let status = item.nta_status.map_or("none", NtaStatus::as_str);
                    let days = item.days_since_release.unwrap_or_default();
                    finding(
                        item.a_number,
                        Some(format!("released {days} days ago, NTA {status}")),
                    )
                })),
            "hearing_without_outcome" => {
                let mut f = Filter::default();
                f.and_always("status = 'scheduled'")
                    .and("hearing_at < $", as_of.0);
                let list = List {
                    select: "SELECT a_number, hearing_at",
                    from: "hearings",
                    filter: f,
                    select_params: vec![],
                    order: "hearing_at, a_number, schedule_id".into(),
                };
                page(self.store, list, paging, |r| {
                    finding(text(&r[0]), time(&r[1]).map(|t| t.0.to_rfc3339()))
                })
                .await
            }
            _ => {
                let mut f = Filter::default();
                f.and("kind = $", kind);
                let list = List {
                    select: "SELECT a_number, kind, detail",
                    from: "findings",
                    filter: f,
                    select_params: vec![],
                    order: "a_number, detail".into(),
                };
                page(self.store, list, paging, |r| {
                    finding(text(&r[0]), text(&r[2]))
                })
                .await
            }
        }
    }

    /// The stored data-quality findings about one child: (kind, detail).
    /// (The date-dependent kinds, an NTA not served and a hearing without
    /// an outcome, follow from the child's record as of a date.)
    pub async fn findings_of(&self, a_number: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .store
            .query(
                "SELECT kind, detail FROM findings WHERE a_number = ?1 ORDER BY kind, detail",
                vec![a_number.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    text(&r[0]).unwrap_or_default(),
                    text(&r[1]).unwrap_or_default(),
                )
            })
            .collect())
    }

    /// How many findings of each kind, as of `as_of`.
    pub async fn data_quality_summary(
        &self,
        nta_days: i64,
        as_of: Timestamp,
    ) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut out = Vec::new();
        for kind in DATA_QUALITY_KINDS {
            let p = self
                .data_quality(
                    kind,
                    nta_days,
                    as_of,
                    Paging {
                        limit: 0,
                        offset: 0,
                    },
                )
                .await?;
            out.push((kind, p.total));
        }
        Ok(out)
    }
}

/// One row of the agency views' query, and the instant it is read for.
struct Columns<'a> {
    r: &'a [Value],
    as_of: Timestamp,
}
