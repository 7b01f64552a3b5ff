//! `A_TblCase` -> AddressChanged when the case carries an EOIR-33 change
//! of address (UPDATED_* with ADDRESS_CHANGEDON); otherwise the row has no
//! event of its own.

use handoff_events::shared::AddressChanged;
use handoff_events::Event;

use crate::address::{assess, RawAddress};
use crate::record::{Parsed, Reject};
use crate::table::Row;
use crate::time::day;

pub const COLUMNS: [&str; 24] = [
    "IDNCASE",
    "ALIEN_NBR",
    "ALIEN_CITY",
    "ALIEN_STATE",
    "ALIEN_ZIPCODE",
    "UPDATED_STREET",
    "UPDATED_UNIT",
    "UPDATED_CITY",
    "UPDATED_STATE",
    "UPDATED_ZIPCODE",
    "ADDRESS_CHANGEDON",
    "NAT",
    "LANG",
    "CUSTODY",
    "CASE_TYPE",
    "LATEST_HEARING",
    "LATEST_TIME",
    "LATEST_CAL_TYPE",
    "C_BIRTHDATE",
    "DATE_OF_ENTRY",
    "GENDER",
    "DATE_DETAINED",
    "DATE_RELEASED",
    "E_28_DATE",
];

pub fn map(row: &Row<'_>, public: bool) -> Result<Parsed, Reject> {
    let idncase = row.id("IDNCASE")?;
    let changed_on = row.date("ADDRESS_CHANGEDON")?;
    // Validate the dates the row carries even when no event comes of it, so
    // a shifted row cannot pass as clean.
    row.date("LATEST_HEARING")?;
    row.date("C_BIRTHDATE")?;
    let has_update = [
        "UPDATED_CITY",
        "UPDATED_STATE",
        "UPDATED_ZIPCODE",
        "UPDATED_STREET",
    ]
    .iter()
    .any(|c| row.get(c).is_some());
    let Some(changed_on) = changed_on.filter(|_| has_update) else {
        let origin_ok = super::origin(row, public, String::new());
        return origin_ok.map(|_| Parsed::NoEvent("case row without an address change"));
    };
    let origin = super::origin(row, public, format!("A_TblCase:{idncase}:{changed_on}"))?;
    let new = assess(&RawAddress {
        street: row.raw("UPDATED_STREET"),
        unit: row.raw("UPDATED_UNIT"),
        city: row.raw("UPDATED_CITY"),
        state: row.raw("UPDATED_STATE"),
        zip: row.raw("UPDATED_ZIPCODE"),
    });
    let old = assess(&RawAddress {
        city: row.raw("ALIEN_CITY"),
        state: row.raw("ALIEN_STATE"),
        zip: row.raw("ALIEN_ZIPCODE"),
        ..Default::default()
    });
    Ok(Parsed::Events(vec![Event::AddressChanged(
        AddressChanged {
            meta: origin.meta("AddressChanged", day(changed_on)),
            address: new,
            previous_address: (!old.blank).then_some(old),
            reported_by: Some("EOIR_33".to_owned()),
        },
    )]))
}
