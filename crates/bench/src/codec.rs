//! Codec: Avro binary encode and decode of each event type, in events/s,
//! the way the views store events (`to_datum`/`from_datum`, this build's
//! schema), against Python's fastavro (`schemaless_writer`/`_reader`) on
//! the same schemas and the same events, in the same run.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{samples, ANumber, Catalogue, Event};

use crate::{write, BenchError, Peers, Scale};

/// Children whose sample events make up the set each type is timed on.
const CHILDREN: u64 = 50;

/// Each type is timed this many times on each side and the fastest is
/// kept, as `timeit` does: a pass of a few milliseconds that the machine
/// interrupted says more about the machine than about the codec.
const REPEATS: u64 = 5;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CodecFigures {
    pub events: u64,
    pub encode_per_s: f64,
    pub decode_per_s: f64,
    pub fastavro_encode_per_s: f64,
    pub fastavro_decode_per_s: f64,
}

impl CodecFigures {
    pub fn encode_ratio(&self) -> f64 {
        self.encode_per_s / self.fastavro_encode_per_s
    }

    pub fn decode_ratio(&self) -> f64 {
        self.decode_per_s / self.fastavro_decode_per_s
    }
}

/// The events of each type the codec is timed on.
fn events_by_type() -> BTreeMap<&'static str, Vec<Event>> {
    let mut by_type: BTreeMap<&'static str, Vec<Event>> = BTreeMap::new();
    for child in 0..CHILDREN {
        let a = ANumber::parse(&format!("A{:09}", 300_000_000 + child)).expect("valid A-number");
        for event in samples::one_of_each(a) {
            by_type.entry(event.record_name()).or_default().push(event);
        }
    }
    by_type
}

/// Per event type, Handoff's and fastavro's rates.
pub fn run(scale: Scale, peers: &Peers) -> Result<BTreeMap<String, CodecFigures>, BenchError> {
    let rounds: u64 = match scale {
        Scale::Quick => 20,
        Scale::Full => 400,
    };
    let catalogue = Catalogue::embedded();
    let events = events_by_type();
    let dir = tempfile::tempdir().map_err(|source| BenchError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut figures = BTreeMap::new();
    for (name, list) in &events {
        let schema = catalogue
            .get(name)
            .expect("every event type is in the catalogue");
        write(&dir.path().join(format!("{name}.avsc")), &schema.text)?;
        let json: Vec<_> = list.iter().map(Event::to_json).collect();
        write(
            &dir.path().join(format!("{name}.json")),
            &serde_json::to_string(&json).expect("JSON"),
        )?;
        figures.insert(
            (*name).to_owned(),
            time_rust(&catalogue, name, list, rounds)?,
        );
    }
    let peer = peers.run(
        "fastavro_codec.py",
        &[
            dir.path().display().to_string(),
            rounds.to_string(),
            REPEATS.to_string(),
        ],
    )?;
    for (name, f) in figures.iter_mut() {
        f.fastavro_encode_per_s = peer[name]["encode_per_s"].as_f64().unwrap_or(f64::NAN);
        f.fastavro_decode_per_s = peer[name]["decode_per_s"].as_f64().unwrap_or(f64::NAN);
    }
    Ok(figures)
}

fn time_rust(
    catalogue: &Catalogue,
    name: &str,
    events: &[Event],
    rounds: u64,
) -> Result<CodecFigures, BenchError> {
    let n = events.len() as u64 * rounds;
    let (mut encode, mut decode) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..REPEATS {
        let started = Instant::now();
        let mut encoded = Vec::with_capacity(n as usize);
        for _ in 0..rounds {
            for event in events {
                encoded.push(
                    to_datum(catalogue, event).map_err(|e| BenchError::Codec(e.to_string()))?,
                );
            }
        }
        encode = encode.min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        for bytes in &encoded {
            black_box(
                from_datum(catalogue, name, bytes).map_err(|e| BenchError::Codec(e.to_string()))?,
            );
        }
        decode = decode.min(started.elapsed().as_secs_f64());
    }
    Ok(CodecFigures {
        events: n,
        encode_per_s: n as f64 / encode,
        decode_per_s: n as f64 / decode,
        ..CodecFigures::default()
    })
}
