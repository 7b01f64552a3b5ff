//! Progress bars for the long commands (gen, replay, export): shown only
//! on a terminal, with the rate and time left; elsewhere (CI, logs) the
//! commands print their summary alone.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` `unit`s, or nothing when stderr is not a terminal.
pub fn bar(len: u64, unit: &str) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, ETA {{eta}})"
            ))
            .expect("valid template"),
        );
        bar
    })
}

/// A spinner counting `unit`s with no known end.
pub fn counter(unit: &str) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} [{{elapsed_precise}}] {{pos}} {unit} ({{per_sec}})"
            ))
            .expect("valid template"),
        );
        bar
    })
}
