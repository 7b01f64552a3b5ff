//! Where log lines go. Services write them to standard error, where an
//! operator's supervisor collects them. `handoff up` is also what a
//! newcomer reads on a terminal, so there its story stays readable: every
//! line goes to `<data-dir>/handoff.log` and only warnings and errors also
//! reach the terminal, unless `-v` or `RUST_LOG` asks for everything there.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

const DEFAULT_FILTER: &str = "info,librdkafka=warn,rdkafka=warn,nisshi=warn";

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into())
}

fn terminal<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
}

/// Every line on standard error.
pub fn to_terminal() {
    tracing_subscriber::registry()
        .with(terminal().with_filter(filter()))
        .init();
}

/// Every line appended to `<data_dir>/handoff.log`, warnings and errors
/// also on standard error. Returns the file, or `None` (with everything on
/// standard error, and a line saying why) when it cannot be opened.
pub fn to_file_in(data_dir: &Path) -> Option<PathBuf> {
    let path = data_dir.join("handoff.log");
    let opened = std::fs::create_dir_all(data_dir)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(&path));
    match opened {
        Ok(file) => {
            tracing_subscriber::registry()
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(Mutex::new(file))
                        .with_ansi(false)
                        .with_filter(filter()),
                )
                .with(terminal().with_filter(LevelFilter::WARN))
                .init();
            Some(path)
        }
        Err(e) => {
            to_terminal();
            tracing::warn!(file = %path.display(), error = %e, "cannot open the log file; logging to the terminal");
            None
        }
    }
}
