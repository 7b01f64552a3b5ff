//! Criterion micro-benchmarks of the hot codec paths: an event to its
//! Avro datum and back (what the views store and re-fold), and a child's
//! fold over its events. `cargo bench --bench codec`; `handoff bench`
//! gives the same codec figures beside fastavro's.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{samples, ANumber, Catalogue};
use handoff_story::ChildState;

fn codec(c: &mut Criterion) {
    let catalogue = Catalogue::embedded();
    let events = samples::one_of_each(ANumber::parse("A000000123").unwrap());
    let datums: Vec<(String, Vec<u8>)> = events
        .iter()
        .map(|e| (e.record_name().to_owned(), to_datum(&catalogue, e).unwrap()))
        .collect();
    let mut group = c.benchmark_group("datum");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("encode one of each type", |b| {
        b.iter(|| {
            for e in &events {
                black_box(to_datum(&catalogue, e).unwrap());
            }
        })
    });
    group.bench_function("decode one of each type", |b| {
        b.iter(|| {
            for (name, bytes) in &datums {
                black_box(from_datum(&catalogue, name, bytes).unwrap());
            }
        })
    });
    group.finish();
    c.bench_function("fold one child's story", |b| {
        b.iter(|| black_box(ChildState::from_events("A000000123", &events)))
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
