//! Handoff's services run as their own processes of the `handoff` binary,
//! as they do in production, so each one's peak memory is its own: the
//! kernel's high-water mark of its resident memory (`VmHWM` in
//! `/proc/<pid>/status`), read every 20 ms while it runs. Not `ru_maxrss`
//! from `wait4`: Linux carries the parent's peak into a child at `exec`,
//! so every service would report at least the bench's own size.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::BenchError;

/// A `handoff` subcommand started in the background. Its standard error
/// goes to `<name>.log`, which a failure quotes; its standard output to
/// `<name>.out`, for the commands that print JSON.
pub struct Service {
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
    started: Instant,
    /// The highest `VmHWM` seen, in KiB, and the thread that reads it.
    peak_kib: Arc<AtomicU64>,
    watcher: Option<JoinHandle<()>>,
}

/// How a process ended: its exit, wall time and peak resident memory.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub success: bool,
    pub wall: Duration,
    pub peak_rss_mb: f64,
}

impl Service {
    /// Starts `bin args…`, logging to `<log_dir>/<name>.log`.
    pub fn start(
        bin: &Path,
        name: &str,
        args: &[String],
        log_dir: &Path,
    ) -> Result<Service, BenchError> {
        Service::start_with_env(bin, name, args, &[], log_dir)
    }

    /// `start`, with these variables added to its environment.
    pub fn start_with_env(
        bin: &Path,
        name: &str,
        args: &[String],
        env: &[(&str, &str)],
        log_dir: &Path,
    ) -> Result<Service, BenchError> {
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).map_err(|source| BenchError::Io {
            path: log.clone(),
            source,
        })?;
        let out = log_dir.join(format!("{name}.out"));
        let stdout = std::fs::File::create(&out).map_err(|source| BenchError::Io {
            path: out.clone(),
            source,
        })?;
        let child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(file)
            .spawn()
            .map_err(|e| BenchError::Run(format!("cannot start {} {name}: {e}", bin.display())))?;
        let peak_kib = Arc::new(AtomicU64::new(0));
        let watcher = Some(watch_peak(child.id(), peak_kib.clone()));
        Ok(Service {
            name: name.to_owned(),
            child: Some(child),
            log,
            started: Instant::now(),
            peak_kib,
            watcher,
        })
    }

    /// The end of the log, for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// An error about this service, with the end of its log.
    pub fn failure(&self, what: &str) -> BenchError {
        BenchError::Run(format!(
            "{} {what}; the end of {}:\n{}",
            self.name,
            self.log.display(),
            self.log_tail()
        ))
    }

    /// Whether it has exited on its own (a service must not).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Waits for it to exit by itself.
    pub fn wait(mut self) -> Result<Finished, BenchError> {
        self.reap()
    }

    /// Asks it to stop (SIGTERM, the clean shutdown) and reaps it.
    pub fn stop(mut self) -> Result<Finished, BenchError> {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) on our own child's pid, which is not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        }
        self.reap()
    }

    fn reap(&mut self) -> Result<Finished, BenchError> {
        let mut child = self.child.take().expect("a service is reaped once");
        let status = child
            .wait()
            .map_err(|e| BenchError::Run(format!("waiting for {}: {e}", self.name)))?;
        let wall = self.started.elapsed();
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        Ok(Finished {
            success: status.success(),
            wall,
            peak_rss_mb: self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0,
        })
    }
}

/// Reads the process's `VmHWM` every 20 ms until it has exited (the line
/// goes when its memory is released), keeping the highest.
fn watch_peak(pid: u32, peak_kib: Arc<AtomicU64>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        loop {
            let hwm = std::fs::read_to_string(&path).ok().and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse::<u64>().ok())
            });
            match hwm {
                Some(kib) => {
                    peak_kib.fetch_max(kib, Ordering::Relaxed);
                }
                None => return,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// Runs `bin args…` to the end; an exit other than success is an error
/// quoting the end of its log.
pub fn run_to_end(
    bin: &Path,
    name: &str,
    args: &[String],
    log_dir: &Path,
) -> Result<Finished, BenchError> {
    let service = Service::start(bin, name, args, log_dir)?;
    let log = service.log.clone();
    let tail = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    let finished = service.wait()?;
    if !finished.success {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(BenchError::Run(format!(
            "`handoff {}` failed; the end of {}:\n{}",
            args.join(" "),
            log.display(),
            tail(&text)
        )));
    }
    Ok(finished)
}

/// A free TCP port on 127.0.0.1 (bound, then released for the service).
pub fn free_port() -> Result<u16, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::Run(format!("no free port: {e}")))?;
    Ok(listener
        .local_addr()
        .map_err(|e| BenchError::Run(format!("no free port: {e}")))?
        .port())
}

/// What `run_to_end(…, name, …)` printed on its standard output.
pub fn stdout_of(log_dir: &Path, name: &str) -> Result<String, BenchError> {
    let path = log_dir.join(format!("{name}.out"));
    std::fs::read_to_string(&path).map_err(|source| BenchError::Io { path, source })
}
