//! The window of history a replay or export covers, in record time: when
//! the agency's system recorded the event, which is when it could first
//! have been known. `from` is inclusive, `to` exclusive, so "as of D" is
//! everything recorded before D.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use handoff_events::Timestamp;

/// Where a record time falls against the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Before,
    Inside,
    After,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Window {
    pub fn new(from: Option<Timestamp>, to: Option<Timestamp>) -> Result<Self, String> {
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(format!(
                    "the window is empty: --from {} is not before --to {}; give a --from earlier than --to",
                    f.to_rfc3339(),
                    t.to_rfc3339()
                ));
            }
        }
        Ok(Window { from, to })
    }

    pub fn place(&self, recorded_at: Timestamp) -> Placement {
        if self.from.is_some_and(|f| recorded_at < f) {
            Placement::Before
        } else if self.to.is_some_and(|t| recorded_at >= t) {
            Placement::After
        } else {
            Placement::Inside
        }
    }

    /// The whole log: a rebuild of it can carry on live (see `replay`).
    pub fn is_everything(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    pub fn describe(&self) -> String {
        let edge = |t: Option<Timestamp>, open: &str| t.map_or(open.to_owned(), |t| t.to_rfc3339());
        format!(
            "recorded from {} to {}",
            edge(self.from, "the beginning"),
            edge(self.to, "the end of the log")
        )
    }
}

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    /// `--from 2021-10-01`: from the first moment of that day.
    Start,
    /// `--as-of 2021-09-30`, `--to 2021-09-30`: up to the end of that day.
    End,
}

/// Parses `2021-09-30`, `2021-09-30T12:00:00`, `2021-09-30T12:00:00Z` or
/// any RFC 3339 instant; times without an offset are UTC.
pub fn parse_instant(text: &str, edge: DayEdge) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = match edge {
            DayEdge::Start => day,
            DayEdge::End => day
                .succ_opt()
                .ok_or("the date is past the calendar's end")?,
        };
        return Ok(Timestamp::start_of(day));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp::from_datetime(at.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Timestamp::from_datetime(at.and_utc()));
        }
    }
    Err(format!(
        "`{text}` is not a date or a date-time; write 2021-09-30 (a whole day) or 2021-09-30T12:00:00Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::from_datetime(
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn a_bare_date_is_the_start_or_the_end_of_its_day() {
        assert_eq!(
            parse_instant("2021-09-30", DayEdge::Start).unwrap(),
            at("2021-09-30T00:00:00Z")
        );
        assert_eq!(
            parse_instant("2021-09-30", DayEdge::End).unwrap(),
            at("2021-10-01T00:00:00Z")
        );
        assert_eq!(
            parse_instant("2021-09-30T12:30:00", DayEdge::End).unwrap(),
            at("2021-09-30T12:30:00Z")
        );
        assert_eq!(
            parse_instant("2021-09-30T12:30:00-04:00", DayEdge::End).unwrap(),
            at("2021-09-30T16:30:00Z")
        );
        let err = parse_instant("30/09/2021", DayEdge::Start).unwrap_err();
        assert!(
            err.contains("30/09/2021") && err.contains("2021-09-30"),
            "{err}"
        );
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let from = at("2021-01-01T00:00:00Z");
        let to = at("2021-02-01T00:00:00Z");
        let w = Window::new(Some(from), Some(to)).unwrap();
        assert_eq!(w.place(Timestamp(from.0 - 1)), Placement::Before);
        assert_eq!(w.place(from), Placement::Inside);
        assert_eq!(w.place(Timestamp(to.0 - 1)), Placement::Inside);
        assert_eq!(w.place(to), Placement::After);
        assert!(Window::new(Some(to), Some(from)).is_err());
        assert!(Window::default().is_everything());
        assert_eq!(Window::default().place(from), Placement::Inside);
    }
}
