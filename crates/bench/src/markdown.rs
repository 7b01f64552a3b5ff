//! BENCHMARKS.md: the machine, the command, and each figure beside what it
//! is measured against, with the target it must meet.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::codec::CodecFigures;
use crate::latency::LatencyFigures;
use crate::results::{Measured, Results};
use crate::scale::SizeFigures;

/// The codec target: Handoff at least this many times fastavro.
pub const CODEC_TARGET: f64 = 15.0;
/// Ingest and replay at least this fraction of the broker's raw rate.
pub const CEILING_TARGET: f64 = 0.8;
/// Replay at least this many times the Python peer.
pub const PEER_TARGET: f64 = 10.0;
/// FTA to webhook p99 at 1,000 events/s, in milliseconds.
pub const LATENCY_TARGET_MS: f64 = 50.0;
/// The p99 under which a rate counts as sustained (notifications keep up
/// instead of queueing), in milliseconds.
pub const SUSTAINED_P99_MS: f64 = 1_000.0;
/// Peak resident memory of each service at full scale, in MB.
pub const RSS_TARGET_MB: f64 = 250.0;
/// The three adapters' ingest of the full history, in seconds.
pub const INGEST_TARGET_S: f64 = 120.0;
/// The lowest rate that must be sustained with p99 under a second.
pub const SUSTAINED_TARGET_PER_S: u64 = 10_000;

/// Where the time goes: the reading of a profile, kept beside the code
/// and copied into every BENCHMARKS.md the bench writes.
const PROFILE: &str = include_str!("profile.md");

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "missed"
    }
}

pub fn render(r: &Results) -> String {
    let mut md = String::new();
    let m = &r.machine;
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `handoff bench`. Every figure is a ratio taken in the same run on the same machine, so it can be compared across runs on a noisy machine; the absolute rates are for this machine only.\n"
    );
    let _ = writeln!(
        md,
        "To reproduce: `scripts/setup.sh && cargo build --ignore-rust-version --release -p handoff-cli && target/release/handoff bench` (with `CARGO_TARGET_DIR` set, the binary is under it). `--sizes` chooses the history sizes; the largest is the one the ratios are taken at. `--only PART` measures one part again and keeps the others from `BENCHMARKS.json`.\n"
    );
    let _ = writeln!(
        md,
        "| part | measured | commit | command |\n|---|---|---|---|"
    );
    provenance(&mut md, "codec", r.codec.as_ref());
    provenance(&mut md, "latency", r.latency.as_ref());
    provenance(&mut md, "ingest, replay, memory, scale", r.scale.as_ref());
    provenance(&mut md, "console", r.console.as_ref());
    provenance(&mut md, "broker", r.broker.as_ref());
    let _ = writeln!(md);
    let _ = writeln!(md, "| machine | |\n|---|---|");
    let _ = writeln!(md, "| CPU | {} |", m.cpu);
    let _ = writeln!(md, "| cores | {} |", m.cores);
    let _ = writeln!(md, "| memory | {:.1} GiB |", m.memory_gib);
    let _ = writeln!(md, "| OS | {} |", m.os);
    let _ = writeln!(md, "| Rust | {} |", m.rustc);
    let _ = writeln!(md, "| librdkafka (Handoff) | {} |", m.librdkafka);
    let _ = writeln!(
        md,
        "| broker | Nisshi 0.8.1's protocol (Tansu's successor), embedded, its own process, on Handoff's log engine (fsync every second) unless a table says otherwise; parts measured before 2026-11-29 ran on Tansu 0.6's SQLite engine |"
    );
    let _ = writeln!(md, "| PostgreSQL | {} |", m.postgres);
    let _ = writeln!(md, "| Python (peers) | {} |", m.python);
    let _ = writeln!(md, "| peer libraries | {} |\n", m.peers);
    if let Some(codec) = &r.codec {
        codec_section(&mut md, &codec.figures);
    }
    if let Some(broker) = &r.broker {
        broker_section(&mut md, &broker.figures);
    }
    let sizes = r.scale.as_ref().map_or(&[][..], |s| &s.figures[..]);
    if let Some(largest) = sizes.last() {
        ingest_section(&mut md, largest);
        replay_section(&mut md, largest);
    }
    if let Some(latency) = &r.latency {
        latency_section(
            &mut md,
            &latency.figures.rates,
            latency.figures.notify_rss_mb,
        );
    }
    if !sizes.is_empty() {
        memory_section(&mut md, sizes);
        scale_section(&mut md, sizes);
    }
    if let Some(console) = &r.console {
        console_section(&mut md, &console.figures);
    }
    let _ = writeln!(md, "{PROFILE}");
    md
}

/// A row saying when, at which commit and by which command a part was
/// measured.
fn provenance<T>(md: &mut String, part: &str, measured: Option<&Measured<T>>) {
    let _ = match measured {
        Some(m) => writeln!(
            md,
            "| {part} | {} | {} | `{}` |",
            m.taken_at,
            m.commit.as_deref().unwrap_or("unknown"),
            m.command
        ),
        None => writeln!(md, "| {part} | not measured | | |"),
    };
}

fn ingest_section(md: &mut String, s: &SizeFigures) {
    let _ = writeln!(
        md,
        "## Ingest against the raw producer ({} children, {} events)\n",
        s.children, s.events
    );
    let _ = writeln!(
        md,
        "`handoff ingest <adapter>` over the generated native files, timed as a process (start, read, parse, validate, encode, publish, every event acknowledged, exit), against the ceiling: the same records, read back already encoded, sent by a bare rdkafka producer with the same settings (acks=all, idempotence, linger 5 ms) to a new topic with as many partitions. Target: at least {CEILING_TARGET}x the ceiling.\n"
    );
    let _ = writeln!(
        md,
        "| adapter | events | ingest events/s | raw producer events/s | ratio | |\n|---|---:|---:|---:|---:|---|"
    );
    for a in &s.adapters {
        let ratio = a.ingest.per_second() / a.ceiling.per_second();
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.2}x | {} |",
            a.adapter,
            a.ingest.records,
            a.ingest.per_second(),
            a.ceiling.per_second(),
            ratio,
            verdict(ratio >= CEILING_TARGET)
        );
    }
    let seconds: f64 = s.adapters.iter().map(|a| a.ingest.seconds).sum();
    let _ = writeln!(
        md,
        "\nThe three adapters together: {seconds:.1} s for the whole history (target: under {INGEST_TARGET_S:.0} s, {}).",
        verdict(seconds < INGEST_TARGET_S)
    );
    let _ = writeln!(md);
}

fn replay_section(md: &mut String, s: &SizeFigures) {
    let _ = writeln!(
        md,
        "## Replay against the raw consumer and a Python peer ({} children, {} events)\n",
        s.children, s.events
    );
    let _ = writeln!(
        md,
        "`handoff replay --into <fresh store>` of the whole history, timed as a process (read, decode, store every event, fold every child into the views' tables, exit), against (a) the ceiling: a bare rdkafka consumer reading the same topics to their ends without decoding ({:.0} events/s here), and (b) the peer: `crates/bench/peers/replay_peer.py`, a straightforward confluent-kafka + AvroDeserializer (fastavro) consumer that builds the FTA and NTA-backlog tables in SQLite ({:.0} events/s). Targets: at least {CEILING_TARGET}x the ceiling and {PEER_TARGET}x the peer.\n",
        s.raw_consume.per_second(),
        s.peer.rate.per_second()
    );
    let _ = writeln!(
        md,
        "| store | seconds | events/s | to the ceiling | | to the peer | |\n|---|---:|---:|---:|---|---:|---|"
    );
    for r in &s.replays {
        let to_ceiling = r.replay.per_second() / s.raw_consume.per_second();
        let to_peer = r.replay.per_second() / s.peer.rate.per_second();
        let _ = writeln!(
            md,
            "| {} | {:.1} | {:.0} | {:.2}x | {} | {:.1}x | {} |",
            r.store,
            r.replay.seconds,
            r.replay.per_second(),
            to_ceiling,
            verdict(to_ceiling >= CEILING_TARGET),
            to_peer,
            verdict(to_peer >= PEER_TARGET)
        );
    }
    let same = s.peer.ftas == s.handoff_ftas && s.peer.nta_backlog == s.handoff_nta_backlog;
    let _ = writeln!(
        md,
        "\nThe peer did the same work: it counted {} FTAs and {} released children never served an NTA; Handoff's reports on the replayed store say {} and {} ({}).\n",
        s.peer.ftas,
        s.peer.nta_backlog,
        s.handoff_ftas,
        s.handoff_nta_backlog,
        if same { "the same" } else { "they differ" }
    );
    let _ = writeln!(
        md,
        "For scale: the live `handoff views` caught up on the same history in {:.0} s ({:.0} events/s) and `handoff notify` in {:.0} s ({:.0} events/s), each on its own after the ingest, into SQLite.\n",
        s.views.seconds,
        s.views.rate(s.events).per_second(),
        s.notify.seconds,
        s.notify.rate(s.events).per_second()
    );
}

fn latency_section(md: &mut String, list: &[LatencyFigures], rss: f64) {
    let _ = writeln!(md, "## Latency: FailedToAppear to ORR's webhook\n");
    let _ = writeln!(
        md,
        "A load generator sends mixed traffic (every event type of a child's life, one FTA in each child's 24 events, all stamped as happening now) on a fixed schedule, without waiting for acknowledgements; `handoff notify` (its own process, SQLite outbox) delivers to webhooks served by the bench. Latency is from the moment the FTA is handed to the producer to the moment ORR's webhook receives its notification. Target: p99 under {LATENCY_TARGET_MS} ms at 1,000 events/s.\n"
    );
    let _ = writeln!(
        md,
        "| rate asked | rate sent | events | FTAs | delivered | p50 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for l in list {
        let _ = writeln!(
            md,
            "| {} | {:.0} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
            l.target_per_s,
            l.sent_per_s,
            l.events,
            l.ftas,
            l.delivered,
            l.p50_ms,
            l.p99_ms,
            l.max_ms
        );
    }
    if let Some(at_1000) = list.iter().find(|l| l.target_per_s == 1_000) {
        let _ = writeln!(
            md,
            "\np99 at 1,000 events/s: {:.1} ms ({}).",
            at_1000.p99_ms,
            verdict(at_1000.p99_ms < LATENCY_TARGET_MS && at_1000.delivered == at_1000.ftas)
        );
    }
    let sustained = list
        .iter()
        .filter(|l| l.delivered == l.ftas && l.p99_ms < SUSTAINED_P99_MS)
        .map(|l| l.target_per_s)
        .max();
    let _ = match sustained {
        Some(rate) => writeln!(
            md,
            "The highest rate asked at which every FTA arrived with p99 under {SUSTAINED_P99_MS:.0} ms: {rate} events/s (target: at least {SUSTAINED_TARGET_PER_S}, {}).",
            verdict(rate >= SUSTAINED_TARGET_PER_S)
        ),
        None => writeln!(
            md,
            "No rate asked had every FTA arrive with p99 under {SUSTAINED_P99_MS:.0} ms."
        ),
    };
    let _ = writeln!(
        md,
        "The notifier's peak memory over the whole latency run: {rss:.0} MB."
    );
    let _ = writeln!(md);
}

fn memory_section(md: &mut String, sizes: &[SizeFigures]) {
    let _ = writeln!(md, "## Memory: peak resident set of each service\n");
    let _ = writeln!(
        md,
        "Each service runs as its own `handoff` process; its peak is the kernel's high-water mark of its resident set (`VmHWM`, read every 20 ms). `ingest` is the largest of the three adapters; `views` and `notify` are measured catching up on the whole history; the broker over everything done at that size. Target: under {RSS_TARGET_MB} MB each at full scale.\n"
    );
    let _ = writeln!(
        md,
        "| children | events | ingest MB | views MB | notify MB | replay SQLite MB | replay PostgreSQL MB | broker MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in sizes {
        let ingest = s.adapters.iter().map(|a| a.peak_rss_mb).fold(0.0, f64::max);
        let replay = |name: &str| {
            s.replays
                .iter()
                .find(|r| r.store == name)
                .map_or(f64::NAN, |r| r.peak_rss_mb)
        };
        let broker = s
            .broker_peak_rss_mb
            .map_or_else(|| "not measured".to_owned(), |mb| format!("{mb:.0}"));
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {broker} |",
            s.children,
            s.events,
            ingest,
            s.views.peak_rss_mb,
            s.notify.peak_rss_mb,
            replay("SQLite"),
            replay("PostgreSQL")
        );
    }
    if let Some(largest) = sizes.last() {
        let worst = largest
            .adapters
            .iter()
            .map(|a| a.peak_rss_mb)
            .chain([largest.views.peak_rss_mb, largest.notify.peak_rss_mb])
            .chain(largest.replays.iter().map(|r| r.peak_rss_mb))
            .chain(largest.broker_peak_rss_mb)
            .fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "\nLargest peak at {} children: {worst:.0} MB ({}).\n",
            largest.children,
            verdict(worst < RSS_TARGET_MB)
        );
    }
}

fn scale_section(md: &mut String, sizes: &[SizeFigures]) {
    let _ = writeln!(md, "## Scale curve\n");
    let _ = writeln!(
        md,
        "Wall time of the ingest (the three adapters together) and of each replay, and the time per event: flat or falling time per event is linear or better.\n"
    );
    let _ = writeln!(
        md,
        "| children | events | ingest s | µs/event | replay SQLite s | µs/event | replay PostgreSQL s | µs/event |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let per_event = |seconds: f64, events: u64| seconds * 1e6 / events.max(1) as f64;
    for s in sizes {
        let ingest: f64 = s.adapters.iter().map(|a| a.ingest.seconds).sum();
        let _ = write!(
            md,
            "| {} | {} | {:.1} | {:.0} |",
            s.children,
            s.events,
            ingest,
            per_event(ingest, s.events)
        );
        for r in &s.replays {
            let _ = write!(
                md,
                " {:.1} | {:.0} |",
                r.replay.seconds,
                per_event(r.replay.seconds, s.events)
            );
        }
        let _ = writeln!(md);
    }
    if let [first, .., last] = sizes {
        let growth = |f: &dyn Fn(&SizeFigures) -> f64| {
            per_event(f(last), last.events) / per_event(f(first), first.events)
        };
        let ingest = growth(&|s| s.adapters.iter().map(|a| a.ingest.seconds).sum());
        let _ = write!(
            md,
            "\nFrom {} to {} children the time per event changed {ingest:.2}x for the ingest",
            first.children, last.children
        );
        for (i, r) in last.replays.iter().enumerate() {
            let g = growth(&|s| s.replays.get(i).map_or(f64::NAN, |r| r.replay.seconds));
            let _ = write!(md, ", {g:.2}x for the replay into {}", r.store);
        }
        let _ = writeln!(
            md,
            " (1.00x is linear; below it, better than linear, as start-up costs spread over more events)."
        );
    }
    let _ = writeln!(md);
}

fn broker_section(md: &mut String, b: &crate::broker::BrokerFigures) {
    let _ = writeln!(
        md,
        "## Broker: the log engine against the SQLite engine ({} children, {} records)\n",
        b.children, b.records
    );
    let _ = writeln!(
        md,
        "Handoff's events as the three adapters published them ({} records, {:.0} MB of payload), sent by a bare rdkafka producer with Handoff's settings (acks=all, idempotence, linger 5 ms), every one acknowledged, then read from the beginning by a bare consumer that counts without decoding. Each engine is a fresh `handoff broker --broker-storage <engine>` process measured in the same run. Target: the log engine at least {:.0}x the SQLite engine both ways, and the broker's peak memory under {RSS_TARGET_MB:.0} MB.\n",
        b.records,
        b.bytes as f64 / 1e6,
        crate::broker::TARGET_RATIO
    );
    let _ = writeln!(
        md,
        "| engine | produce records/s | MB/s | consume records/s | MB/s | broker peak MB |\n|---|---:|---:|---:|---:|---:|"
    );
    for e in &b.engines {
        let mb = |r: &crate::ceiling::Rate| r.bytes as f64 / 1e6 / r.seconds.max(1e-9);
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.1} | {:.0} | {:.1} | {:.0} |",
            e.engine,
            e.produce.per_second(),
            mb(&e.produce),
            e.consume.per_second(),
            mb(&e.consume),
            e.peak_rss_mb
        );
    }
    if let Some((produce, consume)) = b.ratios() {
        let target = crate::broker::TARGET_RATIO;
        let _ = writeln!(
            md,
            "\nThe log engine to the SQLite engine: produce {produce:.1}x ({}), consume {consume:.1}x ({}).",
            verdict(produce >= target),
            verdict(consume >= target)
        );
    }
    let log = crate::stack::Engine::Log.name();
    if let Some(e) = b.engines.iter().find(|e| e.engine == log) {
        let _ = writeln!(
            md,
            "The log engine's peak memory: {:.0} MB ({}).",
            e.peak_rss_mb,
            verdict(e.peak_rss_mb < RSS_TARGET_MB)
        );
    }
    let _ = writeln!(md);
}

fn console_section(md: &mut String, c: &crate::console::ConsoleFigures) {
    let _ = writeln!(
        md,
        "## Console: server time per page ({} children, {} events)\n",
        c.children, c.events
    );
    let _ = writeln!(
        md,
        "The history generated, ingested by the three adapters and replayed into a fresh SQLite views store ({:.0} MB), the store `handoff up` holds. Each page is asked for in a row as its agency, through the console's router in the bench's own process: the time is the server's (session, policy, queries, audit record, rendering), with no browser or network in it. A child's page is timed on children spread over the whole store, each found by A-number first. Target: p99 under {} ms for every worklist and a child's page.\n",
        c.store_mb,
        crate::console::TARGET_P99_MS
    );
    let _ = writeln!(
        md,
        "| page | as | requests | p50 ms | p99 ms | max ms | |\n|---|---|---:|---:|---:|---:|---|"
    );
    for p in &c.pages {
        let mark = if p.targeted {
            verdict(p.p99_ms < crate::console::TARGET_P99_MS)
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {:.1} | {:.1} | {:.1} | {mark} |",
            p.page, p.agency, p.requests, p.p50_ms, p.p99_ms, p.max_ms
        );
    }
    let _ = writeln!(md);
}

fn codec_section(md: &mut String, codec: &BTreeMap<String, CodecFigures>) {
    let _ = writeln!(md, "## Codec: Avro encode and decode against fastavro\n");
    let _ = writeln!(
        md,
        "Each event type's binary datum written and read with this build's schema (`to_datum`/`from_datum`, the path the views store events by), against Python `fastavro` (`schemaless_writer`/`schemaless_reader`) on the same schema and events. Target: at least {CODEC_TARGET}x fastavro.\n"
    );
    let _ = writeln!(
        md,
        "| event type | encode/s | fastavro | ratio | decode/s | fastavro | ratio |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    for (name, f) in codec {
        let _ = writeln!(
            md,
            "| {name} | {:.0} | {:.0} | {:.1}x | {:.0} | {:.0} | {:.1}x |",
            f.encode_per_s,
            f.fastavro_encode_per_s,
            f.encode_ratio(),
            f.decode_per_s,
            f.fastavro_decode_per_s,
            f.decode_ratio()
        );
        enc.push(f.encode_ratio());
        dec.push(f.decode_ratio());
    }
    let geo = |v: &[f64]| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len().max(1) as f64).exp();
    let (e, d) = (geo(&enc), geo(&dec));
    let verdict = |x: f64| if x >= CODEC_TARGET { "met" } else { "missed" };
    let _ = writeln!(
        md,
        "\nGeometric mean over the types: encode {e:.1}x ({}), decode {d:.1}x ({}).\n",
        verdict(e),
        verdict(d)
    );
}
