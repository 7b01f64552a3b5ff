//! librdkafka settings from a config file's `[kafka]` table and from
//! `HANDOFF_KAFKA__*` environment variables, so a deployment can keep
//! TLS and SASL settings in a mounted file and the password in a secret
//! without writing them on a command line.
//!
//! Later sources win: the file, then the environment, then `-X`.

use std::collections::BTreeMap;
use std::path::Path;

/// The prefix of environment variables that carry librdkafka settings:
/// `HANDOFF_KAFKA__SASL_PASSWORD` is `sasl.password`.
pub const ENV_PREFIX: &str = "HANDOFF_KAFKA__";

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    Toml { path: String, message: String },
    #[error("the config file {path} has a `{key}` table or key; it holds only a [kafka] table of librdkafka settings (e.g. \"security.protocol\" = \"SASL_SSL\")")]
    UnknownKey { path: String, key: String },
    #[error("the config file {path}: [kafka] {key} is {kind}; give librdkafka settings as strings, numbers or booleans")]
    BadValue {
        path: String,
        key: String,
        kind: &'static str,
    },
}

/// The `[kafka]` table of the TOML file at `path`, as librdkafka keys and
/// values. Dotted keys may be quoted (`"sasl.mechanisms" = "..."`) or
/// written bare (`sasl.mechanisms = "..."`, which TOML reads as nested
/// tables): both give `sasl.mechanisms`.
pub fn from_file(path: &Path) -> Result<BTreeMap<String, String>, SettingsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: shown.clone(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SettingsError::Toml {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("kafka", toml::Value::Table(kafka)) => flatten(&shown, "", kafka, &mut out)?,
            _ => {
                return Err(SettingsError::UnknownKey { path: shown, key });
            }
        }
    }
    Ok(out)
}

fn flatten(
    path: &str,
    prefix: &str,
    table: toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), SettingsError> {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Table(inner) => {
                flatten(path, &key, inner, out)?;
                continue;
            }
            toml::Value::Array(_) => {
                return Err(SettingsError::BadValue {
                    path: path.to_owned(),
                    key,
                    kind: "an array",
                })
            }
            toml::Value::Datetime(_) => {
                return Err(SettingsError::BadValue {
                    path: path.to_owned(),
                    key,
                    kind: "a date",
                })
            }
        };
        out.insert(key, text);
    }
    Ok(())
}

/// librdkafka settings among `vars` (the process's environment):
/// `HANDOFF_KAFKA__SSL_CA_LOCATION=/etc/ca.pem` is `ssl.ca.location`.
/// librdkafka's keys are lower case words joined by dots, so the rest of
/// the name is lower-cased and each `_` becomes a `.`.
pub fn from_env(vars: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.filter_map(|(name, value)| {
        let key = name.strip_prefix(ENV_PREFIX)?;
        (!key.is_empty()).then(|| (key.to_ascii_lowercase().replace('_', "."), value))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn quoted_and_bare_dotted_keys_give_the_same_settings() {
        let f = file(
            r#"
[kafka]
"security.protocol" = "SASL_SSL"
sasl.mechanisms = "SCRAM-SHA-512"
"message.max.bytes" = 2000000
"enable.ssl.certificate.verification" = true
"#,
        );
        let got = from_file(f.path()).unwrap();
        assert_eq!(got["security.protocol"], "SASL_SSL");
        assert_eq!(got["sasl.mechanisms"], "SCRAM-SHA-512");
        assert_eq!(got["message.max.bytes"], "2000000");
        assert_eq!(got["enable.ssl.certificate.verification"], "true");
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn anything_but_a_kafka_table_is_refused_by_name() {
        let f = file("[kafak]\n\"security.protocol\" = \"SSL\"\n");
        let e = from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("`kafak`") && e.contains("[kafka]"), "{e}");
        let f = file("[kafka]\n\"sasl.mechanisms\" = [\"PLAIN\"]\n");
        let e = from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("sasl.mechanisms is an array"), "{e}");
        let f = file("[kafka\n");
        let e = from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn environment_names_map_to_dotted_keys() {
        let vars = [
            ("HANDOFF_KAFKA__SASL_PASSWORD", "secret"),
            ("HANDOFF_KAFKA__SSL_CA_LOCATION", "/etc/ca.pem"),
            ("HANDOFF_BROKERS", "elsewhere"),
            ("HANDOFF_KAFKA__", "nothing"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let got = from_env(vars.into_iter());
        assert_eq!(got.len(), 2);
        assert_eq!(got["sasl.password"], "secret");
        assert_eq!(got["ssl.ca.location"], "/etc/ca.pem");
    }
}
