//! One `handoff` service as a child process, started the way a deployment
//! starts it (its arguments plus environment), with the HTTP address it
//! prints. Killed when dropped, so a failed assertion leaves nothing behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::handoff_bin;

pub struct ServiceProcess {
    pub name: String,
    pub child: Child,
    /// The base URL from the line it prints for its HTTP listener.
    pub url: String,
}

impl ServiceProcess {
    /// Starts `handoff <args>` with `env` and waits until it prints the
    /// line starting with `address_line` (`http` or `registry`).
    pub fn start(args: &[&str], env: &[(&str, &str)], address_line: &str) -> ServiceProcess {
        let name = args.first().copied().unwrap_or("handoff").to_owned();
        let mut child = Command::new(handoff_bin())
            .args(args)
            .env_remove("HANDOFF_BROKERS")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("handoff starts");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!("`handoff {name}` printed no `{address_line}` line within 60 s")
                });
            if line.starts_with(&format!("{address_line} ")) {
                let address = line.split_whitespace().nth(1).expect("an address");
                break address.to_owned();
            }
        };
        ServiceProcess { name, child, url }
    }

    /// Polls `path` until it answers 200, or fails naming the last answer.
    pub async fn wait_ok(&self, path: &str, within: Duration) -> serde_json::Value {
        self.wait_status(path, 200, within).await
    }

    /// Polls `path` until it answers `status`; returns the body as JSON
    /// (null if it is not), or fails naming the last answer.
    pub async fn wait_status(
        &self,
        path: &str,
        status: u16,
        within: Duration,
    ) -> serde_json::Value {
        let client = crate::http();
        let deadline = Instant::now() + within;
        loop {
            let last = match client.get(format!("{}{path}", self.url)).send().await {
                Ok(r) if r.status() == status => return r.json().await.unwrap_or_default(),
                Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "{} {path} not {status} within {within:?}; last: {last}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
