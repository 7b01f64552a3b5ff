//! Who a notification is for. Rules address roles; the subscribers of
//! `deploy/notify.toml` say which office plays which role (and, for ERO,
//! for which areas of responsibility).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// HHS ORR: post-release services, wellness checks.
    Orr,
    /// ICE ERO, the field office of the child's area of responsibility.
    EroFieldOffice,
    /// ICE ERO supervisors (safety concerns).
    EroSupervisor,
    /// ICE ERO field office director (escalations).
    FieldOfficeDirector,
    /// ICE OPLA, government counsel in court.
    Opla,
    /// DOJ EOIR, the immigration courts.
    Eoir,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Orr,
        Role::EroFieldOffice,
        Role::EroSupervisor,
        Role::FieldOfficeDirector,
        Role::Opla,
        Role::Eoir,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Orr => "orr",
            Role::EroFieldOffice => "ero_field_office",
            Role::EroSupervisor => "ero_supervisor",
            Role::FieldOfficeDirector => "field_office_director",
            Role::Opla => "opla",
            Role::Eoir => "eoir",
        }
    }
}

/// The ERO area of responsibility for an address in `state`, by state.
/// ERO splits a few large states between offices by county; Handoff keeps
/// the office of the state's largest population, and a FieldOfficeAssigned
/// event overrides it for the child.
pub fn area_of_responsibility(state: &str) -> Option<&'static str> {
    let aor = match state.trim().to_uppercase().as_str() {
        "GA" | "NC" | "SC" => "ATL",
        "MD" => "BAL",
        "MA" | "CT" | "ME" | "NH" | "RI" | "VT" => "BOS",
        "IL" | "IN" | "WI" | "MO" | "KS" | "KY" => "CHI",
        "OK" => "DAL",
        "CO" | "WY" => "DEN",
        "MI" | "OH" => "DET",
        "NM" => "ELP",
        "MT" | "ID" => "SLC",
        "TX" => "HOU",
        "CA" => "LOS",
        "FL" | "PR" | "VI" => "MIA",
        "NJ" => "NEW",
        "LA" | "MS" | "AL" | "AR" | "TN" => "NOL",
        "NY" => "NYC",
        "PA" | "DE" | "WV" => "PHI",
        "AZ" => "PHO",
        "UT" | "NV" => "SLC",
        "WA" | "OR" | "AK" => "SEA",
        "MN" | "IA" | "NE" | "ND" | "SD" => "SPM",
        "VA" | "DC" => "WAS",
        "HI" | "GU" | "AS" | "MP" => "SFR",
        _ => return None,
    };
    Some(aor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_an_office_and_unknown_ones_none() {
        for state in ["TX", "ca", " ny ", "DC", "PR"] {
            assert!(area_of_responsibility(state).is_some(), "{state}");
        }
        assert_eq!(area_of_responsibility("ZZ"), None);
        assert_eq!(area_of_responsibility("va"), Some("WAS"));
    }
}
