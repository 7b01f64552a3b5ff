//! Parsing of the field values agency exports actually contain: dates in
//! several spellings, EOIR's null-like markers, integers with the letter
//! `O` for zero. Each function names what it accepts, so a reject can tell
//! the user what the field should have held.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// EOIR's null-like values: empty, whitespace, `N/A`, `A.2.a`, `b6` (the
/// FOIA redaction marker), and runs of only `?` or only `0`.
pub fn is_null_like(raw: &str) -> bool {
    let v = raw.trim();
    v.is_empty()
        || v.eq_ignore_ascii_case("N/A")
        || v == "A.2.a"
        || v.eq_ignore_ascii_case("b6")
        || v.chars().all(|c| c == '?')
        || v.chars().all(|c| c == '0')
}

/// The value, trimmed, or `None` when null-like. Stray backslashes at the
/// ends (an artefact of the EOIR export) are dropped.
pub fn clean(raw: &str) -> Option<String> {
    let v = raw.trim().trim_matches('\\').trim();
    (!is_null_like(v)).then(|| v.to_owned())
}

/// Dates as the exports write them: `2019-05-01`, `2019-05-01 00:00:00.000`,
/// `2019-05-01T00:00:00`, `05/01/2019`, `05/01/2019 14:30`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    parse_datetime(raw).map(|dt| dt.date())
}

pub const DATE_FORMATS_HELP: &str = "a date like 2019-05-01, 2019-05-01 00:00:00.000 or 05/01/2019";

/// Date-times in the same spellings; a bare date means midnight.
pub fn parse_datetime(raw: &str) -> Option<NaiveDateTime> {
    let v = raw.trim();
    const DATETIME: [&str; 6] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ];
    for format in DATETIME {
        if let Ok(dt) = NaiveDateTime::parse_from_str(v, format) {
            return Some(dt);
        }
    }
    for format in ["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, format) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

/// EOIR hearing times: `0900`, `900`, `9:00`, `09:00 AM`, `1330`.
pub fn parse_time(raw: &str) -> Option<NaiveTime> {
    let v = raw.trim();
    if let Ok(t) = NaiveTime::parse_from_str(v, "%H:%M") {
        return Some(t);
    }
    if let Ok(t) = NaiveTime::parse_from_str(v, "%I:%M %p") {
        return Some(t);
    }
    if v.len() >= 3 && v.len() <= 4 && v.chars().all(|c| c.is_ascii_digit()) {
        let n: u32 = v.parse().ok()?;
        return NaiveTime::from_hms_opt(n / 100, n % 100, 0);
    }
    None
}

/// Integer ids where the export sometimes typed the letter `O` for zero.
pub fn parse_id(raw: &str) -> Option<u64> {
    let v: String = raw
        .trim()
        .chars()
        .map(|c| if c == 'O' || c == 'o' { '0' } else { c })
        .collect();
    v.parse().ok()
}

/// `Y`/`N` flags; anything else is unknown.
pub fn parse_flag(raw: &str) -> Option<bool> {
    match raw.trim() {
        "Y" | "y" | "1" | "true" | "TRUE" => Some(true),
        "N" | "n" | "0" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_like_values_are_recognised() {
        for v in ["", "  ", "N/A", "A.2.a", "b6", "B6", "???", "0000", "0"] {
            assert!(is_null_like(v), "{v:?}");
        }
        for v in ["NYC", "10", "A1", "?a"] {
            assert!(!is_null_like(v), "{v:?}");
        }
        assert_eq!(clean(" SAN JUAN\\ "), Some("SAN JUAN".into()));
    }

    #[test]
    fn dates_and_times_in_export_spellings() {
        let d = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
        for v in [
            "2019-05-01",
            "2019-05-01 00:00:00.000",
            "05/01/2019",
            "05/01/2019 14:30",
            "20190501",
        ] {
            assert_eq!(parse_date(v), Some(d), "{v}");
        }
        assert_eq!(parse_date("13/45/2019"), None);
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        for v in ["0900", "900", "9:00", "09:00 AM"] {
            assert_eq!(parse_time(v), Some(nine), "{v}");
        }
        assert_eq!(parse_time("2500"), None);
        assert_eq!(parse_id("1O23"), Some(1023));
    }
}
