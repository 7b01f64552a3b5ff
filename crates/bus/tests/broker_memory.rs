//! The embedded broker's buffers go back to the system when freed, even
//! after a larger one: glibc raised its mmap threshold to the size of the
//! first large buffer freed (a 5 MiB fetch response), and from then on kept
//! every smaller one in its arenas, so the broker's memory grew with the
//! traffic it had served. A test binary of its own, so that no other test
//! maps or frees memory while this one counts.
#![cfg(all(feature = "embedded-broker", target_os = "linux", target_env = "gnu"))]

use std::hint::black_box;

const FETCH: usize = 5 << 20;
const PRODUCE: usize = 1 << 20;

/// Bytes glibc holds in mappings of their own, process-wide.
fn mapped() -> usize {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    unsafe { libc::mallinfo2() }.hblkhd
}

#[test]
fn a_produce_buffer_after_a_fetch_response_is_returned_when_freed() {
    handoff_bus::embedded::memory::return_large_buffers();
    drop(black_box(vec![1u8; FETCH]));
    let before = mapped();
    let produce = black_box(vec![1u8; PRODUCE]);
    let held = mapped();
    assert!(
        held >= before + PRODUCE,
        "a 1 MiB buffer after a 5 MiB one is in a mapping of its own ({before} then {held} bytes mapped)"
    );
    drop(produce);
    let after = mapped();
    assert!(
        after + PRODUCE <= held,
        "freeing it returned its mapping ({held} then {after} bytes mapped)"
    );
}
