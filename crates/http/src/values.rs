//! The values every answer shares, in their one JSON form: instants as
//! RFC 3339 UTC with milliseconds (`2024-05-09T00:00:00.000Z`), agencies
//! and other enumerations as lower-case strings their schema lists, and
//! addresses as one object. Answer types use these instead of the event
//! types, whose serde form is Avro's (epoch milliseconds, upper-case
//! symbols).

use std::borrow::Cow;

use apache_avro::{AvroSchema, Schema as Avro};
use handoff_events::{Address, Agency, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// An instant, answered as RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub Timestamp);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| Time(Timestamp::from_datetime(t.to_utc())))
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not RFC 3339: {e}")))
    }
}

impl From<Timestamp> for Time {
    fn from(t: Timestamp) -> Self {
        Time(t)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Time {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Time(Timestamp::from_datetime(t))
    }
}

impl PartialSchema for Time {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant: RFC 3339, UTC, with milliseconds."))
            .examples(["2024-05-09T14:30:00.000Z"])
            .into()
    }
}

impl ToSchema for Time {}

/// An agency, as answers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgencyName {
    Ice,
    HhsOrr,
    DojEoir,
}

impl From<Agency> for AgencyName {
    fn from(a: Agency) -> Self {
        match a {
            Agency::Ice => AgencyName::Ice,
            Agency::HhsOrr => AgencyName::HhsOrr,
            Agency::DojEoir => AgencyName::DojEoir,
        }
    }
}

impl AgencyName {
    /// The name as answers give it (`hhs_orr`).
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyName::Ice => "ice",
            AgencyName::HhsOrr => "hhs_orr",
            AgencyName::DojEoir => "doj_eoir",
        }
    }

    /// The agency a stored symbol (`ICE`, `HHS_ORR`, `DOJ_EOIR`) names.
    pub fn from_symbol(symbol: &str) -> Option<AgencyName> {
        [Agency::Ice, Agency::HhsOrr, Agency::DojEoir]
            .into_iter()
            .find(|a| a.symbol() == symbol)
            .map(Into::into)
    }
}

/// A symbol of one of the events' enumerations (an Avro enum), answered
/// in lower case; its schema lists the symbols from the Avro schema, so
/// the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<E>(pub E);

impl<E: Serialize> Serialize for Symbol<E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        let symbol = value
            .as_str()
            .ok_or_else(|| serde::ser::Error::custom("an enumeration serialises as a string"))?;
        s.serialize_str(&symbol.to_lowercase())
    }
}

impl<E: Serialize> Symbol<E> {
    /// The symbol as answers give it (`not_located`).
    pub fn text(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// The schemas of a symbol, for an answer field's `schema_with` (the
/// OpenAPI derive cannot reach through the generic to the Avro schema).
impl<E: AvroSchema> Symbol<E> {
    fn symbols() -> Vec<serde_json::Value> {
        match E::get_schema() {
            Avro::Enum(e) => e.symbols.iter().map(|s| s.to_lowercase().into()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::symbols()))
            .into()
    }

    /// For an optional field: a symbol or null.
    pub fn nullable_schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Self::schema())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }
}

/// A postal address as an agency recorded it, with the checks made on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostalAddress {
    pub street: Option<String>,
    pub secondary_unit: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A multi-unit building with no unit given.
    pub missing_secondary_unit: bool,
    /// The postal service cannot deliver to it.
    pub undeliverable: bool,
    /// No address at all.
    pub blank: bool,
    /// Known in part, without a street.
    pub incomplete: bool,
}

impl From<&Address> for PostalAddress {
    fn from(a: &Address) -> Self {
        PostalAddress {
            street: a.street.clone(),
            secondary_unit: a.secondary_unit.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            missing_secondary_unit: a.missing_secondary_unit,
            undeliverable: a.undeliverable,
            blank: a.blank,
            incomplete: a.incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use handoff_events::hhs::SponsorCategory;

    use super::*;

    #[test]
    fn times_and_symbols_have_one_form() {
        let t = Time(Timestamp(1_557_360_000_000));
        assert_eq!(serde_json::to_value(t).unwrap(), "2019-05-09T00:00:00.000Z");
        let back: Time = serde_json::from_str("\"2019-05-09T00:00:00Z\"").unwrap();
        assert_eq!(back, t);
        assert_eq!(
            serde_json::to_value(Symbol(SponsorCategory::Cat2A)).unwrap(),
            "cat_2a"
        );
        let schema = serde_json::to_value(Symbol::<SponsorCategory>::schema()).unwrap();
        assert!(schema["enum"]
            .as_array()
            .unwrap()
            .contains(&"cat_2a".into()));
        for agency in Agency::ALL {
            let name = AgencyName::from(agency);
            assert_eq!(serde_json::to_value(name).unwrap(), name.as_str());
        }
    }
}
