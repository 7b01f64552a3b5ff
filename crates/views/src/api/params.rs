//! The query parameters, as types: the OpenAPI document lists them from
//! these, and the handlers read them with these, checking each value
//! themselves so a bad one is answered with its name and what is wrong.
//! Every field is taken as text for that reason; `value_type` gives the
//! type the document promises.

use chrono::{DateTime, NaiveDate};
use handoff_events::Timestamp;
use handoff_http::Problem;
use serde::Deserialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::IntoParams;

use crate::narrow::{Narrow, Sort};
use crate::queries::Paging;
use crate::rows::DATA_QUALITY_KINDS;

/// A date (`2024-09-30`) or an RFC 3339 time.
fn date_or_time() -> RefOr<Schema> {
    let text = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(text(KnownFormat::Date))
        .item(text(KnownFormat::DateTime))
        .into()
}

fn kinds() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(DATA_QUALITY_KINDS))
        .into()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagingQuery {
    /// Items per page. Default 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 1000)]
    limit: Option<String>,
    /// Items to skip: the previous page's `next_offset`. Default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
}

impl PagingQuery {
    pub fn paging(&self) -> Result<Paging, Problem> {
        Ok(Paging {
            limit: number(&self.limit, "limit", 100, 1000)?,
            offset: number(&self.offset, "offset", 0, i64::MAX)?,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The instant to answer for: RFC 3339, or a date meaning the end of
    /// that day (UTC). Default: now.
    #[param(schema_with = date_or_time)]
    as_of: Option<String>,
}

impl AsOfQuery {
    pub fn as_of(&self) -> Result<Timestamp, Problem> {
        // A date means the end of that day: "as of 2024-09-30" includes it.
        Ok(instant(&self.as_of, "as_of", Day::End)?.unwrap_or_else(Timestamp::now))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SortQuery {
    /// A column to sort by (a leading `-` for descending), then the list's
    /// own order. The columns each list takes are in its description.
    sort: Option<String>,
}

impl SortQuery {
    pub fn sort(&self, sortable: &[&'static str]) -> Result<Sort, Problem> {
        match &self.sort {
            None => Ok(Sort::default()),
            Some(raw) => Sort::parse(raw, sortable).map_err(|e| Problem::bad_parameter("sort", e)),
        }
    }
}

/// Missed hearings: which ones.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FtaFilter {
    /// Only hearings at or after: RFC 3339, or a date meaning its start.
    #[param(schema_with = date_or_time)]
    since: Option<String>,
    /// Only hearings before: RFC 3339, or a date meaning its end.
    #[param(schema_with = date_or_time)]
    until: Option<String>,
    /// Only this ICE area of responsibility (e.g. HOU).
    aor: Option<String>,
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
    /// `true`: only those ICE has not followed up.
    #[param(value_type = Option<bool>)]
    without_follow_up: Option<String>,
}

impl FtaFilter {
    pub fn narrow(&self) -> Result<Narrow, Problem> {
        Ok(Narrow {
            since: instant(&self.since, "since", Day::Start)?,
            until: instant(&self.until, "until", Day::End)?,
            aor: self.aor.clone(),
            court: self.court.clone(),
            without_follow_up: flag(&self.without_follow_up, "without_follow_up")?,
            ..Narrow::default()
        })
    }
}

/// ICE's view: which children.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IceFilter {
    /// Only this ICE area of responsibility (e.g. HOU).
    aor: Option<String>,
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
    /// `true`: only children with an open safety concern.
    #[param(value_type = Option<bool>)]
    open_safety_concerns: Option<String>,
}

impl IceFilter {
    pub fn narrow(&self) -> Result<Narrow, Problem> {
        Ok(Narrow {
            aor: self.aor.clone(),
            court: self.court.clone(),
            open_safety_concerns: flag(&self.open_safety_concerns, "open_safety_concerns")?,
            ..Narrow::default()
        })
    }
}

/// ORR's view: which released children.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrrFilter {
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
    /// `true`: only children who missed a hearing.
    #[param(value_type = Option<bool>)]
    missed_hearing: Option<String>,
    /// Only children whose last missed hearing is at or after this.
    #[param(schema_with = date_or_time)]
    since: Option<String>,
    /// Only children whose last missed hearing is before this.
    #[param(schema_with = date_or_time)]
    until: Option<String>,
}

impl OrrFilter {
    pub fn narrow(&self) -> Result<Narrow, Problem> {
        Ok(Narrow {
            court: self.court.clone(),
            missed_hearing: flag(&self.missed_hearing, "missed_hearing")?,
            since: instant(&self.since, "since", Day::Start)?,
            until: instant(&self.until, "until", Day::End)?,
            ..Narrow::default()
        })
    }
}

/// EOIR's view: which open cases.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EoirFilter {
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
    /// `true`: only cases whose latest known address is not EOIR's own.
    #[param(value_type = Option<bool>)]
    address_differs: Option<String>,
}

impl EoirFilter {
    pub fn narrow(&self) -> Result<Narrow, Problem> {
        Ok(Narrow {
            court: self.court.clone(),
            address_differs: flag(&self.address_differs, "address_differs")?,
            ..Narrow::default()
        })
    }
}

/// The NTA backlog: which children.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacklogFilter {
    /// Only children released at most this many days before `as_of`
    /// (with `older_than_days`, an age bucket).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 36500)]
    up_to_days: Option<String>,
    /// Only this ICE area of responsibility (e.g. HOU).
    aor: Option<String>,
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
}

impl BacklogFilter {
    pub fn narrow(&self) -> Result<Narrow, Problem> {
        Ok(Narrow {
            up_to_days: optional_number(&self.up_to_days, "up_to_days", 36_500)?,
            aor: self.aor.clone(),
            court: self.court.clone(),
            ..Narrow::default()
        })
    }
}

/// Upcoming hearings: which court.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourtFilter {
    /// Only this immigration court (EOIR base city code).
    court: Option<String>,
}

impl CourtFilter {
    pub fn narrow(&self) -> Narrow {
        Narrow {
            court: self.court.clone(),
            ..Narrow::default()
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OlderThan {
    /// Days since release after which an unserved NTA counts. Default 60.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 36500)]
    older_than_days: Option<String>,
}

impl OlderThan {
    pub fn days(&self) -> Result<i64, Problem> {
        number(&self.older_than_days, "older_than_days", 60, 36_500)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Days ahead of `as_of`. Default 14.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 3650)]
    days: Option<String>,
}

impl Window {
    pub fn days(&self) -> Result<i64, Problem> {
        number(&self.days, "days", 14, 3650)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// The kind of finding; without it, the count of each kind.
    #[param(schema_with = kinds)]
    kind: Option<String>,
}

impl KindQuery {
    pub fn kind(&self) -> Result<Option<&str>, Problem> {
        match self.kind.as_deref() {
            None => Ok(None),
            Some(k) if DATA_QUALITY_KINDS.contains(&k) => Ok(Some(k)),
            Some(k) => Err(Problem::bad_parameter(
                "kind",
                format!(
                    "no data-quality kind `{k}`; the kinds are {}",
                    DATA_QUALITY_KINDS.join(", ")
                ),
            )),
        }
    }
}

fn number(raw: &Option<String>, name: &str, default: i64, max: i64) -> Result<i64, Problem> {
    Ok(optional_number(raw, name, max)?.unwrap_or(default))
}

fn optional_number(raw: &Option<String>, name: &str, max: i64) -> Result<Option<i64>, Problem> {
    match raw {
        None => Ok(None),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Problem::bad_parameter(
                name,
                format!("`{name}` must be a whole number from 0 to {max}, not {raw:?}"),
            )),
        },
    }
}

fn flag(raw: &Option<String>, name: &str) -> Result<bool, Problem> {
    match raw.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Problem::bad_parameter(
            name,
            format!("`{name}` is true or false, not {other:?}"),
        )),
    }
}

/// Whether a bare date in a parameter means the start or the end of the day.
#[derive(Clone, Copy)]
enum Day {
    Start,
    End,
}

/// An instant: RFC 3339, or a date (UTC) meaning the start or end of that day.
fn instant(raw: &Option<String>, name: &str, day_means: Day) -> Result<Option<Timestamp>, Problem> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(Timestamp::from_datetime(t.to_utc())));
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = match day_means {
            Day::Start => day,
            Day::End => day.succ_opt().unwrap_or(day),
        };
        return Ok(Some(Timestamp::start_of(day)));
    }
    Err(Problem::bad_parameter(
        name,
        format!(
            "`{name}` must be a date (2024-09-30) or an RFC 3339 time (2024-09-30T12:00:00Z), not {raw:?}"
        ),
    ))
}
