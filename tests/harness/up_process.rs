//! `handoff up` as a child process, as a user starts it, with the
//! addresses it prints.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::handoff_bin;

pub struct UpProcess {
    pub child: Child,
    pub broker: String,
    pub registry: String,
    pub http: String,
    /// Everything it printed up to `ready.`.
    pub printed: Vec<String>,
    /// Where its standard error goes (warnings and errors reach the
    /// terminal even when log lines go to the log file).
    pub stderr: std::path::PathBuf,
}

impl UpProcess {
    /// Starts `handoff up` on `data_dir` with free ports and `extra`
    /// arguments, and waits for it to print `ready.` (within five minutes:
    /// `--demo` first ingests and applies a history).
    pub fn start(data_dir: &Path, extra: &[&str]) -> UpProcess {
        std::fs::create_dir_all(data_dir).expect("data directory");
        let stderr = data_dir.join("up-stderr.txt");
        let stderr_file = std::fs::File::create(&stderr).expect("stderr file");
        let mut child = Command::new(handoff_bin())
            .args([
                "up",
                "--broker-port",
                "0",
                "--registry-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr_file))
            .spawn()
            .expect("handoff up starts");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut broker, mut registry, mut http) = (None, None, None);
        let mut printed = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!(
                        "handoff up did not print its addresses and `ready` within 300 s; it printed:\n{}",
                        printed.join("\n")
                    )
                });
            printed.push(line.clone());
            let field = |l: &str| l.split_whitespace().nth(1).expect("an address").to_owned();
            if line.starts_with("broker ") {
                broker = Some(field(&line));
            } else if line.starts_with("registry ") {
                registry = Some(field(&line));
            } else if line.starts_with("http ") {
                http = Some(field(&line));
            } else if line.starts_with("ready.") {
                break;
            }
        }
        UpProcess {
            child,
            broker: broker.expect("broker line"),
            registry: registry.expect("registry line"),
            http: http.expect("http line"),
            printed,
            stderr,
        }
    }

    /// Sends SIGTERM, expects exit 0 within 20 s and no process left.
    pub fn sigterm_and_wait(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs")
            .success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "handoff up exits 0 on SIGTERM, got {status}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "handoff up still running 20 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // handoff starts no children; everything ran in-process.
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} left behind"
        );
    }
}

/// A test that fails before stopping `handoff up` must not leave it
/// running: it would hold its ports and a core for the tests after it.
impl Drop for UpProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
