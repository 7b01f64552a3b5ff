//! Progress of the long commands (gen, replay, export): a bar with the
//! rate and the time left on a terminal; elsewhere (CI, services, logs) a
//! log line every ten seconds with the same figures, so a long run under
//! a supervisor still shows it is moving.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Meter {
    bar: ProgressBar,
    what: String,
    unit: String,
    terminal: bool,
    last_log: Mutex<Instant>,
}

impl Meter {
    /// A meter of `len` `unit`s (`None`: no known end) for the step `what`.
    pub fn new(what: &str, len: Option<u64>, unit: &str) -> Meter {
        let terminal = std::io::stderr().is_terminal();
        let (bar, template) = match len {
            Some(len) => (
                ProgressBar::new(len),
                format!("{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, ETA {{eta}})"),
            ),
            None => (
                ProgressBar::new_spinner(),
                format!("{{spinner}} [{{elapsed_precise}}] {{pos}} {unit} ({{per_sec}})"),
            ),
        };
        bar.set_style(ProgressStyle::with_template(&template).expect("valid template"));
        if !terminal {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Meter {
            bar,
            what: what.to_owned(),
            unit: unit.to_owned(),
            terminal,
            last_log: Mutex::new(Instant::now()),
        }
    }

    pub fn set(&self, position: u64) {
        self.bar.set_position(position);
        if self.terminal {
            return;
        }
        let mut last = self.last_log.lock().expect("not poisoned");
        if last.elapsed() < LOG_EVERY {
            return;
        }
        *last = Instant::now();
        let rate = self.bar.per_sec();
        match self.bar.length() {
            Some(len) if len > 0 => tracing::info!(
                "{}: {position} of {len} {} ({:.0}%), {rate:.0}/s, about {} s left",
                self.what,
                self.unit,
                position as f64 * 100.0 / len as f64,
                self.bar.eta().as_secs()
            ),
            _ => tracing::info!("{}: {position} {}, {rate:.0}/s", self.what, self.unit),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
