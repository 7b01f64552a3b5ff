//! Pools of synthetic values. Street and city names are made up; the
//! court and field office codes only look like EOIR's and ERO's.

/// ERO's 25 field offices (areas of responsibility), as short codes.
pub const AORS: [&str; 25] = [
    "ATL", "BAL", "BOS", "BUF", "CHI", "DAL", "DEN", "DET", "ELP", "HLG", "HOU", "LOS", "MIA",
    "NEW", "NOL", "NYC", "PHI", "PHO", "SLC", "SNA", "SND", "SFR", "SEA", "SPM", "WAS",
];

/// Immigration court (hearing location) codes.
pub const COURTS: [&str; 20] = [
    "ATL", "BAL", "BOS", "CHI", "DAL", "DEN", "DET", "ELP", "HAR", "HOU", "LOS", "MIA", "NEW",
    "NOL", "NYC", "PHI", "PHO", "SFR", "SEA", "WAS",
];

/// (city, state, ZIP prefix). Some names carry latin-1 letters, as the
/// EOIR files do.
pub const PLACES: [(&str, &str, &str); 16] = [
    ("Springfield", "IL", "627"),
    ("Riverside", "CA", "925"),
    ("Fairview", "TX", "750"),
    ("Greenville", "NC", "278"),
    ("Madison", "WI", "537"),
    ("Española", "NM", "875"),
    ("Peñasco", "NM", "875"),
    ("Georgetown", "KY", "403"),
    ("Franklin", "TN", "370"),
    ("Clinton", "MA", "015"),
    ("Salem", "OR", "973"),
    ("Marion", "OH", "433"),
    ("Cañon City", "CO", "812"),
    ("Ashland", "VA", "230"),
    ("Dover", "DE", "199"),
    ("Oxford", "MS", "386"),
];

pub const STREETS: [&str; 12] = [
    "Maple St",
    "Oak Ave",
    "Cedar Ln",
    "Pine Rd",
    "Elm St",
    "Walnut Dr",
    "Birch Way",
    "Calle Niño",
    "Willow Ct",
    "Lakeview Blvd",
    "Hillcrest Rd",
    "Sunset Ave",
];

/// Multi-unit buildings: a unit number is needed for mail to arrive.
pub const BUILDINGS: [&str; 4] = [
    "Garden Apartments",
    "Park Towers",
    "River Manor",
    "Oak Courts",
];

pub const COUNTRIES: [&str; 6] = ["GT", "HN", "SV", "MX", "EC", "NI"];

pub const FACILITIES: [&str; 6] = [
    "ORR-TX-07",
    "ORR-TX-12",
    "ORR-AZ-03",
    "ORR-CA-05",
    "ORR-FL-02",
    "ORR-IL-01",
];

pub const PLACEMENT_TYPES: [&str; 4] = ["Shelter", "Shelter", "Foster Care", "Staff Secure"];

pub const RELATIONSHIPS: [(&str, &[&str]); 4] = [
    ("1", &["Mother", "Father", "Legal Guardian"]),
    ("2A", &["Sister", "Brother", "Grandmother"]),
    ("2B", &["Aunt", "Uncle", "Cousin"]),
    ("3", &["Family Friend", "Distant Relative"]),
];

/// Adjournment reason codes used by the generator. `08` is failure to
/// appear with the case continued.
pub const ADJ_REASONS: [&str; 4] = ["01", "02", "17", "30"];
pub const ADJ_FTA_CONTINUED: &str = "08";

pub const DECISIONS: [&str; 4] = ["T", "V", "R", "G"];
