//! The e-mail channel: one message per notification over SMTP (lettre).
//! The Message-ID is derived from the idempotency key, so a resend after
//! a crash carries the same id and mail systems can tell it is a repeat.

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use crate::notification::Notification;

pub struct Email {
    pub to: String,
    pub from: String,
    pub mailer: AsyncSmtpTransport<Tokio1Executor>,
}

impl Email {
    /// `smtp_url` as lettre reads it: `smtp://host:port` (plain, for a
    /// relay on the same network), `smtp://host:587?tls=required`, or
    /// `smtps://user:pass@host:465`.
    pub fn new(smtp_url: &str, from: &str, to: &str) -> Result<Self, String> {
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("smtp_url {smtp_url:?}: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Email {
            to: to.to_owned(),
            from: from.to_owned(),
            mailer,
        })
    }

    pub async fn send(&self, n: &Notification) -> Result<(), String> {
        let id = hex::encode(Sha256::digest(n.idempotency_key.as_bytes()));
        let message = Message::builder()
            .from(
                self.from
                    .parse()
                    .map_err(|e| format!("from {:?}: {e}", self.from))?,
            )
            .to(self
                .to
                .parse()
                .map_err(|e| format!("to {:?}: {e}", self.to))?)
            .subject(format!(
                "[Handoff] {} ({} priority), notification {}",
                n.rule, n.priority, n.sequence
            ))
            .message_id(Some(format!("<{id}@handoff.notify>")))
            .header(ContentType::TEXT_PLAIN)
            .body(n.email_text())
            .map_err(|e| format!("building the e-mail: {e}"))?;
        self.mailer
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP to {}: {e}", self.to))
    }
}
