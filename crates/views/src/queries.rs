//! The reads behind the HTTP API: one child, and the agency views and
//! lists, each a page of JSON items. Every list is ordered by a unique
//! key, so pages never overlap or skip. Date-dependent answers (next
//! hearing, NTA age, hearings passed without an outcome, the NTA backlog)
//! are computed for the `as_of` instant asked about.

use handoff_events::{Catalogue, Event, Timestamp};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use crate::child::ChildState;
use crate::projection::events_of;
use crate::rows::DATA_QUALITY_KINDS;
use crate::store::{Store, StoreError, Value};

const DAY_MS: i64 = 86_400_000;

/// The fields each view's items carry: what the policy grants from.
pub const VIEW_FIELDS: [(&str, &[&str]); 7] = [
    (
        "ice",
        &[
            "a_number",
            "area_of_responsibility",
            "nta_status",
            "nta_status_at",
            "nta_age_days",
            "court",
            "court_status",
            "next_hearing_at",
            "fta_count",
            "ftas_without_follow_up",
            "latest_address",
            "latest_address_agency",
            "latest_address_at",
            "open_safety_concerns",
        ],
    ),
    (
        "hhs_orr",
        &[
            "a_number",
            "released_at",
            "nta_status",
            "court",
            "court_status",
            "next_hearing_at",
            "fta_count",
            "last_fta_at",
        ],
    ),
    (
        "doj_eoir",
        &[
            "a_number",
            "court",
            "court_status",
            "next_hearing_at",
            "latest_address",
            "latest_address_agency",
            "latest_address_at",
            "address_differs_from_eoir",
            "represented",
        ],
    ),
    (
        "fta",
        &[
            "a_number",
            "hearing_at",
            "court",
            "area_of_responsibility",
            "follow_up",
            "opla_recorded",
        ],
    ),
    (
        "nta_backlog",
        &[
            "a_number",
            "released_at",
            "days_since_release",
            "nta_status",
            "area_of_responsibility",
        ],
    ),
    (
        "hearings_upcoming",
        &["a_number", "hearing_at", "court", "schedule_id"],
    ),
    ("data_quality", &["a_number", "kind", "detail"]),
];

/// A page of items, with where the next one starts.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub items: Vec<Json>,
    pub total: i64,
    pub offset: i64,
    pub next_offset: Option<i64>,
}

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

    fn clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }
}

fn time(v: &Value) -> Json {
    v.as_i64()
        .map_or(Json::Null, |ms| Timestamp(ms).to_rfc3339().into())
}

fn text(v: &Value) -> Json {
    v.as_str().map_or(Json::Null, Into::into)
}

fn int(v: &Value) -> Json {
    v.as_i64().map_or(Json::Null, Into::into)
}

fn boolean(v: &Value) -> Json {
    v.as_i64().map_or(Json::Null, |n| (n != 0).into())
}

fn parsed(v: &Value) -> Json {
    v.as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Json::Null)
}

/// A list query: `select` (which may use `select_params`, numbered after
/// the filter's) over `filter`'s rows in `order`.
struct List<'a> {
    select: &'a str,
    from: &'a str,
    filter: Filter,
    select_params: Vec<Value>,
    order: &'a str,
}

/// Runs a list query for one page plus the total count.
async fn page(
    store: &Store,
    list: List<'_>,
    paging: Paging,
    item: impl Fn(&[Value]) -> Json,
) -> Result<Page, StoreError> {
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
    let items: Vec<Json> = rows.iter().map(|r| item(r)).collect();
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

    /// An agency's view of its children: `ice` (every child ICE knows),
    /// `hhs_orr` (released children), `doj_eoir` (open cases).
    pub async fn agency_view(
        &self,
        view: &str,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page, StoreError> {
        let mut filter = Filter::default();
        filter.and_always(match view {
            "ice" => "c.agencies LIKE '%ICE%'",
            "hhs_orr" => "c.released_at IS NOT NULL",
            _ => "c.court_status = 'open'",
        });
        let select = format!(
            "SELECT c.a_number, c.area_of_responsibility, c.nta_status, c.nta_status_at, c.court, c.court_status,
                    {next}, c.fta_count,
                    (SELECT COUNT(*) FROM ftas f WHERE f.a_number = c.a_number AND f.follow_up IS NULL),
                    c.latest_address, c.latest_address_agency, c.latest_address_at, c.open_safety_concerns,
                    c.released_at, c.last_fta_at, c.address_differs_from_eoir, c.represented",
            // The filter has no parameters, so as_of is ?1.
            next = next_hearing(1)
        );
        let list = List {
            select: &select,
            from: "children c",
            filter,
            select_params: vec![as_of.0.into()],
            order: "c.a_number",
        };
        page(self.store, list, paging, |r| {
            let age = r[3]
                .as_i64()
                .map_or(Json::Null, |at| ((as_of.0 - at).div_euclid(DAY_MS)).into());
            let mut o = Map::new();
            let fields: [(&str, Json); 17] = [
                ("a_number", text(&r[0])),
                ("area_of_responsibility", text(&r[1])),
                ("nta_status", text(&r[2])),
                ("nta_status_at", time(&r[3])),
                ("nta_age_days", age),
                ("court", text(&r[4])),
                ("court_status", text(&r[5])),
                ("next_hearing_at", time(&r[6])),
                ("fta_count", int(&r[7])),
                ("ftas_without_follow_up", int(&r[8])),
                ("latest_address", parsed(&r[9])),
                ("latest_address_agency", text(&r[10])),
                ("latest_address_at", time(&r[11])),
                ("open_safety_concerns", int(&r[12])),
                ("released_at", time(&r[13])),
                ("last_fta_at", time(&r[14])),
                ("address_differs_from_eoir", boolean(&r[15])),
            ];
            for (k, v) in fields {
                o.insert(k.to_owned(), v);
            }
            o.insert("represented".to_owned(), boolean(&r[16]));
            Json::Object(only(view, o))
        })
        .await
    }

    /// Missed hearings, oldest first.
    pub async fn ftas(
        &self,
        since: Option<Timestamp>,
        aor: Option<&str>,
        court: Option<&str>,
        paging: Paging,
    ) -> Result<Page, StoreError> {
        let mut f = Filter::default();
        if let Some(since) = since {
            f.and("hearing_at >= $", since.0);
        }
        if let Some(aor) = aor {
            f.and("area_of_responsibility = $", aor);
        }
        if let Some(court) = court {
            f.and("court = $", court);
        }
        let list = List {
            select: "SELECT a_number, hearing_at, court, area_of_responsibility, follow_up, opla_recorded",
            from: "ftas",
            filter: f,
            select_params: vec![],
            order: "hearing_at, a_number",
        };
        page(self.store, list, paging, |r| {
            json!({
                "a_number": text(&r[0]), "hearing_at": time(&r[1]), "court": text(&r[2]),
                "area_of_responsibility": text(&r[3]), "follow_up": text(&r[4]),
                "opla_recorded": boolean(&r[5]),
            })
        })
        .await
    }

    /// Released children not served an NTA more than `older_than_days`
    /// after release, as of `as_of`, longest waiting first.
    pub async fn nta_backlog(
        &self,
        older_than_days: i64,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page, StoreError> {
        let mut f = Filter::default();
        f.and_always("released_at IS NOT NULL")
            .and_always("nta_served_at IS NULL")
            .and_always("nta_status IN ('none', 'issued')")
            .and("released_at < $", as_of.0 - older_than_days * DAY_MS);
        let list = List {
            select: "SELECT a_number, released_at, nta_status, area_of_responsibility",
            from: "children",
            filter: f,
            select_params: vec![],
            order: "released_at, a_number",
        };
        page(self.store, list, paging, |r| {
            let days = r[1]
                .as_i64()
                .map_or(Json::Null, |at| (as_of.0 - at).div_euclid(DAY_MS).into());
            json!({
                "a_number": text(&r[0]), "released_at": time(&r[1]),
                "days_since_release": days, "nta_status": text(&r[2]),
                "area_of_responsibility": text(&r[3]),
            })
        })
        .await
    }

    /// Hearings still on the calendar in the `days` after `as_of`.
    pub async fn upcoming_hearings(
        &self,
        days: i64,
        as_of: Timestamp,
        paging: Paging,
    ) -> Result<Page, StoreError> {
        let mut f = Filter::default();
        f.and_always("status = 'scheduled'")
            .and("hearing_at > $", as_of.0)
            .and("hearing_at <= $", as_of.0 + days * DAY_MS);
        let list = List {
            select: "SELECT a_number, hearing_at, court, schedule_id",
            from: "hearings",
            filter: f,
            select_params: vec![],
            order: "hearing_at, a_number, schedule_id",
        };
        page(self.store, list, paging, |r| {
            json!({
                "a_number": text(&r[0]), "hearing_at": time(&r[1]),
                "court": text(&r[2]), "schedule_id": text(&r[3]),
            })
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
    ) -> Result<Page, StoreError> {
        match kind {
            "nta_not_served" => {
                let mut p = self.nta_backlog(nta_days, as_of, paging).await?;
                for item in &mut p.items {
                    let days = item["days_since_release"].clone();
                    *item = json!({"a_number": item["a_number"], "kind": kind,
                        "detail": format!("released {days} days ago, NTA {}", item["nta_status"].as_str().unwrap_or_default())});
                }
                Ok(p)
            }
            "hearing_without_outcome" => {
                let mut f = Filter::default();
                f.and_always("status = 'scheduled'")
                    .and("hearing_at < $", as_of.0);
                let list = List {
                    select: "SELECT a_number, hearing_at",
                    from: "hearings",
                    filter: f,
                    select_params: vec![],
                    order: "hearing_at, a_number, schedule_id",
                };
                page(
                    self.store,
                    list,
                    paging,
                    |r| json!({"a_number": text(&r[0]), "kind": kind, "detail": time(&r[1])}),
                )
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
                    order: "a_number, detail",
                };
                page(
                    self.store,
                    list,
                    paging,
                    |r| json!({"a_number": text(&r[0]), "kind": text(&r[1]), "detail": text(&r[2])}),
                )
                .await
            }
        }
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

/// Keeps the fields `view` carries.
fn only(view: &str, mut o: Map<String, Json>) -> Map<String, Json> {
    let fields = VIEW_FIELDS
        .iter()
        .find(|(v, _)| *v == view)
        .map(|(_, f)| *f)
        .unwrap_or_default();
    o.retain(|k, _| fields.contains(&k.as_str()));
    o
}
