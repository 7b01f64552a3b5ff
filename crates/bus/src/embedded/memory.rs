//! Keeps the broker's resident memory to what it holds at the moment.
//!
//! The broker's large buffers are short-lived: a fetch reads up to 5 MiB
//! of batches and the protocol layer encodes them into a response of the
//! same size; a produce carries a batch of up to a megabyte. glibc serves
//! a buffer above its mmap threshold with a mapping of its own and gives
//! it back when freed, but it raises that threshold to the size of every
//! such buffer freed (up to 32 MiB), so after the first fetch every later
//! one came from a thread's arena and stayed there once freed. At 448,820
//! children the broker held 150 MB of arenas with 3 MB in use (read with
//! `malloc_stats` in the process), and its peak grew with the history it
//! had served. Setting the threshold fixes it, so every buffer of that
//! size goes back to the system when freed. mimalloc was tried as well:
//! it held more (a 243 MB peak against glibc's 192 MB).

/// Buffers at least this large are mapped on their own and returned on
/// free: glibc's own starting threshold, kept from then on.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING_FROM: libc::c_int = 128 * 1024;

/// Fixes glibc's mmap threshold for the whole process, once. A no-op on
/// other C libraries, whose allocators do not raise it.
pub fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only sets a parameter of the allocator; glibc
            // takes its own lock for it.
            if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM) } != 1 {
                tracing::warn!("glibc refused a fixed mmap threshold; the broker's memory may grow with the traffic it serves");
            }
        });
    }
}
