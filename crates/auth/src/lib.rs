//! Per-agency bearer tokens. The tokens file holds only SHA-256 digests of
//! the secrets, so a leaked config file grants nothing; each token names
//! the one agency it speaks for, so ICE's adapter cannot publish as ORR.
//!
//! ```toml
//! [[token]]
//! id = "ice-earm-1"          # shown in audit records and logs
//! agency = "ICE"             # ICE, HHS_ORR or DOJ_EOIR
//! sha256 = "9f86d08..."      # hex SHA-256 of the secret
//! ```
//! `handoff token new --agency ICE --id ice-earm-1` makes a secret and
//! prints its entry.

use std::path::Path;

use handoff_events::Agency;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub id: String,
    pub agency: Agency,
    /// Hex SHA-256 of the secret.
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the tokens file {path} is not valid: {message}. Each [[token]] needs id, agency (ICE, HHS_ORR or DOJ_EOIR) and sha256")]
    Parse { path: String, message: String },
    #[error(
        "the tokens file {path}: token `{id}` has sha256 `{digest}`, which is not 64 hex digits"
    )]
    Digest {
        path: String,
        id: String,
        digest: String,
    },
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("no bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the bearer token is not known")]
    Unknown,
    #[error("token `{id}` speaks for {token_agency}, not {wanted}")]
    WrongAgency {
        id: String,
        token_agency: &'static str,
        wanted: &'static str,
    },
}

pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares in constant time, so timing does not reveal how much of a
/// digest matched.
fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Tokens {
    pub fn load(path: &Path) -> Result<Self, TokensError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
            path: p.clone(),
            source,
        })?;
        let tokens: Tokens = toml::from_str(&text).map_err(|e| TokensError::Parse {
            path: p.clone(),
            message: e.to_string(),
        })?;
        for t in &tokens.tokens {
            if t.sha256.len() != 64 || !t.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(TokensError::Digest {
                    path: p,
                    id: t.id.clone(),
                    digest: t.sha256.clone(),
                });
            }
        }
        Ok(tokens)
    }

    /// The token an `Authorization` header value presents.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<&TokenEntry, Denied> {
        let secret = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(Denied::Missing)?;
        let presented = digest(secret);
        // Every digest is compared, so timing does not reveal which
        // entry matched either.
        self.tokens
            .iter()
            .fold(None, |found, t| {
                if same(&t.sha256.to_lowercase(), &presented) {
                    Some(t)
                } else {
                    found
                }
            })
            .ok_or(Denied::Unknown)
    }

    /// The token, if it speaks for `agency`.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        agency: Agency,
    ) -> Result<&TokenEntry, Denied> {
        let token = self.authenticate(authorization)?;
        if token.agency != agency {
            return Err(Denied::WrongAgency {
                id: token.id.clone(),
                token_agency: token.agency.symbol(),
                wanted: agency.symbol(),
            });
        }
        Ok(token)
    }
}

/// A new random secret (256 bits, hex) and its entry.
pub fn new_token(id: &str, agency: Agency) -> (String, TokenEntry) {
    let bytes: [u8; 32] = rand::rng().random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let entry = TokenEntry {
        id: id.to_owned(),
        agency,
        sha256: digest(&secret),
    };
    (secret, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_by_digest_and_authorize_by_agency() {
        let (ice_secret, ice) = new_token("ice-1", Agency::Ice);
        let (_, hhs) = new_token("hhs-1", Agency::HhsOrr);
        let tokens = Tokens {
            tokens: vec![ice, hhs],
        };
        let header = format!("Bearer {ice_secret}");
        assert_eq!(
            tokens.authorize(Some(&header), Agency::Ice).unwrap().id,
            "ice-1"
        );
        assert!(matches!(
            tokens.authorize(Some(&header), Agency::HhsOrr),
            Err(Denied::WrongAgency { .. })
        ));
        assert_eq!(tokens.authenticate(None), Err(Denied::Missing));
        assert_eq!(
            tokens.authenticate(Some("Bearer nope")),
            Err(Denied::Unknown)
        );
        assert!(
            !toml::to_string(&tokens).unwrap().contains(&ice_secret),
            "secrets are never stored"
        );
    }

    #[test]
    fn a_bad_file_says_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("handoff-tokens-{}", std::process::id()));
        std::fs::write(
            &dir,
            "[[token]]\nid = \"x\"\nagency = \"FBI\"\nsha256 = \"00\"\n",
        )
        .unwrap();
        let err = Tokens::load(&dir).unwrap_err().to_string();
        assert!(err.contains("agency"), "{err}");
        std::fs::write(
            &dir,
            "[[token]]\nid = \"x\"\nagency = \"ICE\"\nsha256 = \"00\"\n",
        )
        .unwrap();
        let err = Tokens::load(&dir).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
        let _ = std::fs::remove_file(dir);
    }
}
