//! Real receivers for notifications: an HTTP server for webhooks (which
//! checks each signature itself, with its own HMAC, as a receiving agency
//! would) and an SMTP server (Python's aiosmtpd, in the test venv).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::{python, repo_root};

/// One POST the webhook receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path's last segment: the test gives each subscriber its own.
    pub hook: String,
    pub idempotency_key: Option<String>,
    pub sequence: Option<i64>,
    pub signature_valid: bool,
    pub body: Value,
    pub at: Instant,
}

struct Shared {
    secret: Vec<u8>,
    received: Mutex<Vec<Received>>,
    /// Added before answering each request (a slow receiver).
    delay: Mutex<Duration>,
}

/// Webhooks to `url(hook)`, signed with one secret for every hook.
pub struct WebhookReceiver {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<CancellationToken>,
}

impl WebhookReceiver {
    pub async fn start(secret: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut receiver = WebhookReceiver {
            address,
            shared: Arc::new(Shared {
                secret: secret.as_bytes().to_vec(),
                received: Mutex::new(Vec::new()),
                delay: Mutex::new(Duration::ZERO),
            }),
            stop: None,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/hooks/{hook}", post(accept))
            .with_state(self.shared.clone());
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(until.cancelled_owned())
                .await
                .unwrap();
        });
        self.stop = Some(stop);
    }

    pub fn url(&self, hook: &str) -> String {
        format!("http://{}/hooks/{hook}", self.address)
    }

    /// Stops listening: senders get "connection refused".
    pub async fn down(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.cancel();
        }
        // Until the port refuses connections.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.address).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the webhook receiver did not stop");
    }

    /// Listens again on the same address.
    pub async fn up(&mut self) {
        let listener = loop {
            match tokio::net::TcpListener::bind(self.address).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        self.serve(listener);
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Everything accepted so far, notifications and heartbeats.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The notifications (not heartbeats) accepted for one hook.
    pub fn notifications(&self, hook: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.hook == hook && r.body["type"] == "notification")
            .collect()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.cancel();
        }
    }
}

async fn accept(
    State(shared): State<Arc<Shared>>,
    UrlPath(hook): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = *shared.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&shared.secret).unwrap();
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let received = Received {
        hook,
        idempotency_key: header("idempotency-key"),
        sequence: header("x-handoff-sequence").and_then(|s| s.parse().ok()),
        signature_valid: header("x-handoff-signature").as_deref() == Some(expected.as_str()),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    };
    shared.received.lock().unwrap().push(received);
    StatusCode::NO_CONTENT
}

/// A real SMTP server (aiosmtpd) writing each message it accepts as a
/// JSON line to a file.
pub struct SmtpReceiver {
    pub port: u16,
    out: PathBuf,
    child: Child,
}

impl SmtpReceiver {
    pub fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = dir.join(format!("smtp-{port}.jsonl"));
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/peers/smtp_receiver.py"))
            .arg(port.to_string())
            .arg(&out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP receiver starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP receiver did not start");
        SmtpReceiver { port, out, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
