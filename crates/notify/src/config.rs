//! `deploy/notify.toml`: the rules' parameters and the subscribers. Every
//! default is written here and in the shipped file; `NotifyConfig::parse`
//! checks the whole file before anything runs and names what is wrong.

use std::collections::BTreeSet;

use handoff_events::Agency;
use serde::{Deserialize, Serialize};

use crate::roles::Role;
use crate::rules::Rule;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default, rename = "subscriber")]
    pub subscribers: Vec<Subscriber>,
}

/// The rules' parameters (rule names: `Rule`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Rules switched off.
    pub disabled: BTreeSet<Rule>,
    /// Rule 3: days after release without a served NTA. Default 60.
    pub nta_not_served_after_days: u32,
    /// Rule 3: days between reminders while the NTA stays unserved. Default 30.
    pub nta_not_served_repeat_days: u32,
    /// Rule 4: hours after a hearing with no outcome reported. Default 48.
    pub hearing_without_outcome_after_hours: u32,
    /// Rule 6: days after an FTA without ERO follow-up. Default 14.
    pub fta_follow_up_within_days: u32,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            disabled: BTreeSet::new(),
            nta_not_served_after_days: 60,
            nta_not_served_repeat_days: 30,
            hearing_without_outcome_after_hours: 48,
            fta_follow_up_within_days: 14,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before a notification goes to the dead-letter state. Default 10.
    pub max_attempts: u32,
    /// First retry delay, doubled each attempt (with jitter). Default 1 s.
    pub backoff_initial_ms: u64,
    /// Longest retry delay. Default 5 minutes.
    pub backoff_max_ms: u64,
    /// Seconds between webhook heartbeats (0: none). Default 60.
    pub heartbeat_seconds: u64,
    /// The SMTP relay for e-mail subscribers, as lettre reads it:
    /// `smtp://host:port` (plain), `smtp://host:587?tls=required`,
    /// `smtps://user:pass@host:465`. Default `smtp://127.0.0.1:25`.
    pub smtp_url: String,
    /// The sender of notification e-mails. Default `handoff-notify@localhost`.
    pub email_from: String,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 10,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 300_000,
            heartbeat_seconds: 60,
            smtp_url: "smtp://127.0.0.1:25".into(),
            email_from: "handoff-notify@localhost".into(),
        }
    }
}

/// One office that receives notifications.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// Unique, stable: part of every idempotency key.
    pub id: String,
    pub agency: Agency,
    /// A human name for the office, e.g. "ERO Houston".
    pub office: String,
    /// The roles this office plays.
    pub roles: BTreeSet<Role>,
    pub channel: Channel,
    /// Only these rules (default: every rule addressing its roles).
    #[serde(default)]
    pub rules: BTreeSet<Rule>,
    /// Only children in these areas of responsibility (default: all).
    #[serde(default)]
    pub aor: BTreeSet<String>,
    /// Only children whose case is before these courts (default: all).
    #[serde(default)]
    pub court: BTreeSet<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Channel {
    /// JSON POSTed to `url`, signed with HMAC-SHA256 under the secret read
    /// from the environment variable `secret_env` (never from the file).
    Webhook { url: String, secret_env: String },
    /// E-mail over SMTP to `to`.
    Email { to: String },
    /// An Avro record on the `handoff.notifications.v1` topic, keyed by
    /// subscriber id, for systems that would rather consume.
    Topic,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl NotifyConfig {
    /// Parses and checks the whole file.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        let config: NotifyConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if config.delivery.max_attempts == 0 {
            return Err(err(
                "[delivery] max_attempts is 0; give at least 1 (the default is 10)".into(),
            ));
        }
        if config.delivery.backoff_initial_ms == 0
            || config.delivery.backoff_max_ms < config.delivery.backoff_initial_ms
        {
            return Err(err(
                "[delivery] needs 0 < backoff_initial_ms <= backoff_max_ms (defaults 1000 and 300000)"
                    .into(),
            ));
        }
        let mut ids = BTreeSet::new();
        for s in &config.subscribers {
            let at = format!("subscriber `{}`", s.id);
            if s.id.trim().is_empty() {
                return Err(err(
                    "a subscriber has an empty id; give each a unique, stable id".into(),
                ));
            }
            if !ids.insert(s.id.as_str()) {
                return Err(err(format!("{at} is defined twice; ids must be unique")));
            }
            if s.roles.is_empty() {
                return Err(err(format!(
                    "{at} plays no role; give `roles`, e.g. [\"orr\"] (roles: {})",
                    Role::ALL.map(Role::as_str).join(", ")
                )));
            }
            match &s.channel {
                Channel::Webhook { url, secret_env } => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(err(format!("{at}: the webhook url {url:?} is not http(s)")));
                    }
                    if secret_env.trim().is_empty() {
                        return Err(err(format!(
                            "{at}: name the environment variable holding the webhook secret in `secret_env`"
                        )));
                    }
                }
                Channel::Email { to } => {
                    if !to.contains('@') {
                        return Err(err(format!("{at}: {to:?} is not an e-mail address")));
                    }
                }
                Channel::Topic => {}
            }
            for code in s.aor.iter().chain(&s.court) {
                if code.len() != 3 || code.to_uppercase() != *code {
                    return Err(err(format!(
                        "{at}: {code:?} is not an office or court code (three capital letters, e.g. HOU)"
                    )));
                }
            }
        }
        Ok(config)
    }

    /// The file shipped in `deploy/notify.toml`, compiled in.
    pub fn shipped() -> Self {
        Self::parse(
            include_str!("../../../deploy/notify.toml"),
            "deploy/notify.toml",
        )
        .expect("the shipped notify.toml is checked by tests")
    }

    /// Reads and checks a file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: shown.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, &shown)
    }

    /// The same rules and subscribers with every subscriber on the topic
    /// channel: what a local `handoff up` runs unless given a config, so
    /// it needs no webhook secrets or SMTP relay.
    pub fn on_topic_only(mut self) -> Self {
        for s in &mut self.subscribers {
            s.channel = Channel::Topic;
        }
        self
    }

    pub fn enabled(&self, rule: Rule) -> bool {
        !self.rules.disabled.contains(&rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_and_every_role_has_a_subscriber() {
        let config = NotifyConfig::shipped();
        assert_eq!(config.rules, RulesConfig::default());
        for role in Role::ALL {
            assert!(
                config.subscribers.iter().any(|s| s.roles.contains(&role)),
                "no subscriber plays {role:?}"
            );
        }
    }

    #[test]
    fn mistakes_are_named() {
        let bad = |text: &str| NotifyConfig::parse(text, "n.toml").unwrap_err().to_string();
        let sub = |body: &str| {
            format!("[[subscriber]]\nid = \"x\"\nagency = \"ICE\"\noffice = \"o\"\n{body}")
        };
        assert!(bad(&sub("roles = []\nchannel = \"topic\"")).contains("plays no role"));
        assert!(bad(&sub(
            "roles = [\"orr\"]\nchannel = { email = { to = \"nobody\" } }"
        ))
        .contains("not an e-mail address"));
        assert!(bad(&sub(
            "roles = [\"orr\"]\nchannel = { webhook = { url = \"ftp://x\", secret_env = \"S\" } }"
        ))
        .contains("not http(s)"));
        assert!(bad(&sub(
            "roles = [\"orr\"]\nchannel = \"topic\"\naor = [\"houston\"]"
        ))
        .contains("three capital letters"));
        assert!(bad(&sub("roles = [\"sheriff\"]\nchannel = \"topic\"")).contains("n.toml"));
        let twice = format!(
            "{}\n{}",
            sub("roles = [\"orr\"]\nchannel = \"topic\""),
            sub("roles = [\"orr\"]\nchannel = \"topic\"")
        );
        assert!(bad(&twice).contains("defined twice"));
        assert!(bad("[rules]\nnta_days = 3").contains("n.toml"));
    }
}
