//! Any bytes, read as the file the first byte picks; `check` panics on a
//! broken invariant (see `handoff_adapters::invariants`).
#![no_main]

use handoff_adapters::invariants::{check, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check(Target::EoirTables, data));
