//! Addresses as agencies record them, with the findings the OIG counted:
//! blank, undeliverable, or missing the apartment number. A finding never
//! stops an event: a bad address is exactly what other agencies must hear
//! about, so it travels as flags on the address (`Address` in
//! `schemas/common/Address.avsc`).

use handoff_events::Address;

use crate::fields::clean;

/// US states, DC and territories: the codes a deliverable address uses.
const STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
];

/// Words in a street line that mean a multi-unit building, where mail
/// without a unit number often does not reach the child.
const MULTI_UNIT_MARKERS: [&str; 8] = [
    "APARTMENTS",
    "APTS",
    "TOWERS",
    "COMPLEX",
    "BLDG",
    "BUILDING",
    "MANOR",
    "COURTS",
];

/// The raw parts of an address as a source holds them.
#[derive(Debug, Default, Clone)]
pub struct RawAddress<'a> {
    pub street: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub city: Option<&'a str>,
    pub state: Option<&'a str>,
    pub zip: Option<&'a str>,
}

/// Builds the event address and its findings.
pub fn assess(raw: &RawAddress<'_>) -> Address {
    let street = raw.street.and_then(clean);
    let unit = raw.unit.and_then(clean);
    let city = raw.city.and_then(clean);
    let state = raw.state.and_then(clean).map(|s| s.to_uppercase());
    let postal_code = raw.zip.and_then(clean);
    let blank = street.is_none() && city.is_none() && state.is_none() && postal_code.is_none();
    let undeliverable =
        !blank && !deliverable(street.as_deref(), state.as_deref(), postal_code.as_deref());
    let missing_secondary_unit = !blank
        && unit.is_none()
        && street.as_deref().is_some_and(|s| {
            let upper = s.to_uppercase();
            MULTI_UNIT_MARKERS
                .iter()
                .any(|m| upper.split_whitespace().any(|w| w == *m))
        });
    // Mail needs a street; a change that names only the town is still
    // news (the child moved there), so it travels, flagged.
    let incomplete = !blank && street.is_none();
    Address {
        street,
        secondary_unit: unit,
        city,
        state,
        postal_code,
        country: "US".to_owned(),
        missing_secondary_unit,
        undeliverable,
        blank,
        incomplete,
    }
}

fn deliverable(street: Option<&str>, state: Option<&str>, zip: Option<&str>) -> bool {
    let zip_ok = zip.is_some_and(|z| {
        let (five, plus4) = z.split_once('-').unwrap_or((z, ""));
        five.len() == 5
            && five.chars().all(|c| c.is_ascii_digit())
            && (plus4.is_empty() || (plus4.len() == 4 && plus4.chars().all(|c| c.is_ascii_digit())))
    });
    let state_ok = state.is_some_and(|s| STATES.contains(&s));
    let street_ok = street.is_some_and(|s| s.chars().next().is_some_and(|c| c.is_ascii_digit()));
    zip_ok && state_ok && street_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(
        street: &'a str,
        unit: &'a str,
        city: &'a str,
        state: &'a str,
        zip: &'a str,
    ) -> RawAddress<'a> {
        RawAddress {
            street: Some(street),
            unit: Some(unit),
            city: Some(city),
            state: Some(state),
            zip: Some(zip),
        }
    }

    #[test]
    fn findings_match_what_the_oig_counted() {
        let good = assess(&raw("12 Elm St", "", "Springfield", "il", "62701"));
        assert!(!good.blank && !good.undeliverable && !good.missing_secondary_unit);
        assert_eq!(good.state.as_deref(), Some("IL"));
        assert!(assess(&raw("", "", " ", "N/A", "")).blank);
        assert!(assess(&raw("12 Elm St", "", "Springfield", "ZZ", "62701")).undeliverable);
        assert!(assess(&raw("12 Elm St", "", "Springfield", "IL", "6270")).undeliverable);
        assert!(
            assess(&raw("Elm St", "", "Springfield", "IL", "62701")).undeliverable,
            "no house number"
        );
        let no_unit = assess(&raw(
            "400 Garden Apartments",
            "",
            "Springfield",
            "IL",
            "62701-1234",
        ));
        assert!(no_unit.missing_secondary_unit && !no_unit.undeliverable);
        assert!(
            !assess(&raw(
                "400 Garden Apartments",
                "Apt 3",
                "Springfield",
                "IL",
                "62701"
            ))
            .missing_secondary_unit
        );
    }

    #[test]
    fn an_address_without_a_street_is_incomplete_not_blank() {
        let town_only = assess(&raw("", "", "Houston", "TX", "77002"));
        assert!(town_only.incomplete && !town_only.blank);
        assert_eq!(town_only.city.as_deref(), Some("Houston"));
        assert_eq!(town_only.postal_code.as_deref(), Some("77002"));
        assert!(!assess(&raw("12 Elm St", "", "Houston", "TX", "77002")).incomplete);
        assert!(
            !assess(&raw("", "", "", "", "")).incomplete,
            "blank is its own finding"
        );
    }
}
