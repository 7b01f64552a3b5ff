//! The machine the figures come from, for BENCHMARKS.md: a ratio is only
//! comparable with another taken on similar hardware.

use std::process::Command;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub os: String,
    pub rustc: String,
    pub python: String,
    /// The client library both Handoff and the peers' confluent-kafka use.
    pub librdkafka: String,
    pub postgres: String,
    pub peers: String,
}

impl Machine {
    /// The same processor, core count and memory: figures taken on it
    /// can stand in one table with this run's.
    pub fn same_hardware(&self, other: &Machine) -> bool {
        self.cpu == other.cpu
            && self.cores == other.cores
            && (self.memory_gib - other.memory_gib).abs() < 0.5
    }

    pub fn describe(python: &std::path::Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown".to_owned(), |m| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        let os = std::fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("PRETTY_NAME="))
            .map_or("unknown".to_owned(), |l| {
                l.trim_start_matches("PRETTY_NAME=")
                    .trim_matches('"')
                    .to_owned()
            });
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: kib / 1024.0 / 1024.0,
            os,
            rustc: output("rustc", &["--version"]),
            python: output(&python.display().to_string(), &["--version"]),
            librdkafka: rdkafka::util::get_rdkafka_version().1,
            postgres: output("psql", &["--version"]),
            peers: output(
                &python.display().to_string(),
                &[
                    "-c",
                    "import confluent_kafka, fastavro; print('confluent-kafka', confluent_kafka.__version__, '(librdkafka', confluent_kafka.libversion()[0] + '), fastavro', fastavro.__version__)",
                ],
            ),
        }
    }
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
