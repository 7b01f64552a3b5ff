//! How long to wait before the next attempt: exponential from the
//! configured first delay, capped, with "equal jitter" (half fixed, half
//! random) so that many notifications failing together do not retry in
//! lockstep against a receiver that is just coming back.

use std::time::Duration;

use rand::Rng;

use crate::config::DeliveryConfig;

/// The wait after `failed` attempts (1 after the first failure).
pub fn delay(config: &DeliveryConfig, failed: u32, rng: &mut impl Rng) -> Duration {
    let doublings = failed.saturating_sub(1).min(30);
    let full = config
        .backoff_initial_ms
        .saturating_mul(1u64 << doublings)
        .min(config.backoff_max_ms);
    let half = full / 2;
    Duration::from_millis(half + rng.random_range(0..=full - half))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_jitters_within_the_upper_half() {
        let config = DeliveryConfig {
            backoff_initial_ms: 1_000,
            backoff_max_ms: 10_000,
            ..DeliveryConfig::default()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (failed, full) in [
            (1, 1_000),
            (2, 2_000),
            (3, 4_000),
            (4, 8_000),
            (5, 10_000),
            (40, 10_000),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let d = delay(&config, failed, &mut rng).as_millis() as u64;
                assert!(d >= full / 2 && d <= full, "attempt {failed}: {d} ms");
                seen.insert(d);
            }
            assert!(seen.len() > 10, "attempt {failed}: no jitter: {seen:?}");
        }
    }
}
