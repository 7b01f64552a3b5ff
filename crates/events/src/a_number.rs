//! The alien registration number: the one key ICE, ORR and EOIR share.
//!
//! Source systems write it many ways (`A12345678`, `A-123-456-789`,
//! `a 123 456 789`, `123456789`). Every event carries it normalised to `A`
//! plus nine digits so that one child's events land on one partition and
//! join across agencies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A normalised A-number: `A` followed by exactly nine digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ANumber(String);

/// Why a text is not an A-number. The message quotes a masked form of the
/// input only: A-numbers are personal data and must not reach logs whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ANumberError {
    #[error("the A-number is empty; give `A` followed by 7 to 9 digits, e.g. A012345678")]
    Empty,
    #[error("the A-number `{masked}` contains `{bad}`; only digits, an optional leading `A`, dashes and spaces are allowed")]
    BadCharacter { masked: String, bad: char },
    #[error("the A-number `{masked}` has {digits} digits; it needs 7 to 9 digits after the `A`")]
    WrongLength { masked: String, digits: usize },
    #[error("the A-number `{masked}` is all zeros, which no person is assigned")]
    AllZeros { masked: String },
}

impl ANumber {
    /// Normalises any of the spellings seen in agency exports.
    pub fn parse(raw: &str) -> Result<Self, ANumberError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ANumberError::Empty);
        }
        let body = trimmed
            .strip_prefix('A')
            .or_else(|| trimmed.strip_prefix('a'))
            .unwrap_or(trimmed);
        let mut digits = String::with_capacity(9);
        for c in body.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '-' | ' ' | '.' => {}
                other => {
                    return Err(ANumberError::BadCharacter {
                        masked: mask(trimmed),
                        bad: other,
                    })
                }
            }
        }
        if !(7..=9).contains(&digits.len()) {
            return Err(ANumberError::WrongLength {
                masked: mask(trimmed),
                digits: digits.len(),
            });
        }
        if digits.chars().all(|c| c == '0') {
            return Err(ANumberError::AllZeros {
                masked: mask(trimmed),
            });
        }
        Ok(ANumber(format!("A{digits:0>9}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs and error messages: only the last three digits.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Keeps the last three characters so an operator can tell two records
/// apart without the log revealing who the child is.
fn mask(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let keep = chars.len().min(3);
    let hidden = chars.len() - keep;
    let tail: String = chars[hidden..].iter().collect();
    format!("{}{}", "*".repeat(hidden), tail)
}

impl fmt::Display for ANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output is masked too, so a stray `{:?}` in a log line leaks nothing.
impl fmt::Debug for ANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ANumber({})", self.masked())
    }
}

impl FromStr for ANumber {
    type Err = ANumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ANumber::parse(s)
    }
}

impl Serialize for ANumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ANumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        ANumber::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl apache_avro::AvroSchemaComponent for ANumber {
    fn get_schema_in_ctxt(
        _: &mut std::collections::HashSet<apache_avro::schema::Name>,
        _: apache_avro::schema::NamespaceRef,
    ) -> apache_avro::Schema {
        apache_avro::Schema::String
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_the_spellings_seen_in_exports() {
        for raw in [
            "A12345678",
            "A012345678",
            "a-012-345-678",
            "A 012 345 678",
            "12345678",
            " A-12345678 ",
        ] {
            assert_eq!(ANumber::parse(raw).unwrap().as_str(), "A012345678", "{raw}");
        }
        assert_eq!(ANumber::parse("A1234567").unwrap().as_str(), "A001234567");
        assert_eq!(
            ANumber::parse("A-123-456-78").unwrap().as_str(),
            "A012345678"
        );
    }

    #[test]
    fn rejects_what_is_not_an_a_number_and_says_why() {
        assert_eq!(ANumber::parse("  "), Err(ANumberError::Empty));
        let err = ANumber::parse("A12B45678").unwrap_err();
        assert!(matches!(err, ANumberError::BadCharacter { bad: 'B', .. }));
        assert!(err.to_string().contains("contains `B`"));
        let err = ANumber::parse("A123456").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the A-number `****456` has 6 digits; it needs 7 to 9 digits after the `A`"
        );
        assert!(matches!(
            ANumber::parse("A1234567890"),
            Err(ANumberError::WrongLength { digits: 10, .. })
        ));
        assert!(matches!(
            ANumber::parse("A000000000"),
            Err(ANumberError::AllZeros { .. })
        ));
    }

    #[test]
    fn debug_and_errors_never_show_the_whole_number() {
        let a = ANumber::parse("A012345678").unwrap();
        assert_eq!(format!("{a:?}"), "ANumber(*******678)");
        let err = ANumber::parse("A01234567X").unwrap_err().to_string();
        assert!(!err.contains("0123456"), "{err}");
    }
}
