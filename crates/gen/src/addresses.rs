//! What the agencies end up knowing of a released child's address, worked
//! out from the generator's own decisions, for the data-quality counts in
//! `truth.json`: whether two agencies hold different addresses, and whether
//! the most recent address anyone holds is blank, undeliverable or missing
//! its unit. The generator never lets two address records of one child
//! fall on the same day, so "most recent" is never a tie.

use chrono::NaiveDate;

/// A child's address history as the generator wrote it.
pub struct AddressHistory<'a> {
    pub released: NaiveDate,
    /// The release address's finding, if it is bad.
    pub home_finding: Option<&'a str>,
    /// When ICE served the NTA (to the address ICE then knew).
    pub served: Option<NaiveDate>,
    /// A later change: the agency told, and when.
    pub change: Option<(&'a str, NaiveDate)>,
}

/// Which address an agency holds: the release address or the new one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Home,
    New,
}

impl AddressHistory<'_> {
    fn home_recorded(&self) -> bool {
        // A blank address is no address at all for comparing.
        self.home_finding != Some("blank")
    }

    fn change_to(&self, agency: &str) -> Option<NaiveDate> {
        self.change.filter(|(a, _)| *a == agency).map(|(_, d)| d)
    }

    /// What ICE serves to: the new address if ICE heard of it by then.
    fn served_to(&self) -> Known {
        match (self.change_to("ICE"), self.served) {
            (Some(d), Some(s)) if d <= s => Known::New,
            _ => Known::Home,
        }
    }

    /// Each agency's latest usable address.
    fn per_agency(&self) -> Vec<Known> {
        let mut out = Vec::new();
        let home = |k: Known| (k == Known::New || self.home_recorded()).then_some(k);
        let hhs = if self.change_to("HHS_ORR").is_some() {
            Some(Known::New)
        } else {
            home(Known::Home)
        };
        let ice = if self.change_to("ICE").is_some() {
            Some(Known::New)
        } else {
            self.served.and_then(|_| home(self.served_to()))
        };
        let eoir = self.change_to("DOJ_EOIR").map(|_| Known::New);
        out.extend([hhs, ice, eoir].into_iter().flatten());
        out
    }

    /// Two agencies hold different addresses.
    pub fn agencies_disagree(&self) -> bool {
        let known = self.per_agency();
        known.iter().any(|k| *k != known[0])
    }

    /// The finding on the most recent address any agency holds, if bad.
    pub fn latest_finding(&self) -> Option<&str> {
        let mut latest = (self.released, Known::Home);
        if let Some(s) = self.served {
            let to = self.served_to();
            if (to == Known::New || self.home_recorded()) && s > latest.0 {
                latest = (s, to);
            }
        }
        if let Some((_, d)) = self.change {
            if d > latest.0 {
                latest = (d, Known::New);
            }
        }
        match latest.1 {
            Known::New => None,
            Known::Home => self.home_finding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, 1, n).unwrap()
    }

    #[test]
    fn a_move_only_orr_heard_of_is_a_disagreement_once_ice_served() {
        let mut h = AddressHistory {
            released: day(1),
            home_finding: None,
            served: None,
            change: Some(("HHS_ORR", day(20))),
        };
        assert!(!h.agencies_disagree(), "ICE holds no address yet");
        h.served = Some(day(10));
        assert!(h.agencies_disagree());
        assert_eq!(h.latest_finding(), None);
    }

    #[test]
    fn a_bad_release_address_stays_the_latest_until_someone_moves() {
        let mut h = AddressHistory {
            released: day(1),
            home_finding: Some("undeliverable"),
            served: Some(day(10)),
            change: None,
        };
        assert_eq!(h.latest_finding(), Some("undeliverable"));
        assert!(!h.agencies_disagree());
        h.change = Some(("ICE", day(5)));
        assert_eq!(h.latest_finding(), None, "ICE served to the new address");
        h.change = Some(("DOJ_EOIR", day(5)));
        assert_eq!(
            h.latest_finding(),
            Some("undeliverable"),
            "ICE served later, to the old one"
        );
    }
}
