//! BENCHMARKS.md: the machine, the command, and each figure beside what it
//! is measured against, with the target it must meet.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::codec::CodecFigures;
use crate::machine::Machine;

/// The codec target: Handoff at least this many times fastavro.
pub const CODEC_TARGET: f64 = 15.0;

pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub taken_at: String,
    pub codec: Option<BTreeMap<String, CodecFigures>>,
}

pub fn render(r: &Results) -> String {
    let mut md = String::new();
    let m = &r.machine;
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `{}` on {}. Every figure is a ratio taken in the same run on the same machine, so it can be compared across runs on a noisy machine; the absolute rates are for this machine only.\n",
        r.command, r.taken_at
    );
    let _ = writeln!(
        md,
        "To reproduce: `scripts/setup.sh && cargo build --release -p handoff-cli && target/release/handoff bench` (with `CARGO_TARGET_DIR` set, the binary is under it).\n"
    );
    let _ = writeln!(md, "| machine | |\n|---|---|");
    let _ = writeln!(md, "| CPU | {} |", m.cpu);
    let _ = writeln!(md, "| cores | {} |", m.cores);
    let _ = writeln!(md, "| memory | {:.1} GiB |", m.memory_gib);
    let _ = writeln!(md, "| OS | {} |", m.os);
    let _ = writeln!(md, "| Rust | {} |", m.rustc);
    let _ = writeln!(md, "| Python (peers) | {} |\n", m.python);
    if let Some(codec) = &r.codec {
        codec_section(&mut md, codec);
    }
    let _ = writeln!(
        md,
        "## Not measured yet\n\nIngest against a raw producer, replay against the raw consume rate and a Python peer, FTA-to-webhook latency at steady rates, peak memory per service and the scale curve are still to come (issue 7). The full-history replay and export figures in the README were measured by hand with `/usr/bin/time -v`."
    );
    md
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
