//! `handoff gen`: a synthetic history of unaccompanied children's cases in
//! the three agencies' native layouts (ICE CSV, ORR JSON Lines, EOIR
//! tables), at the scale and with the proportions the DHS OIG reported,
//! with the faults real exports have, and a `truth.json` of every count a
//! later report or ingest must reproduce. Streamed: memory does not grow
//! with the number of children. Every value is made up.

pub mod addresses;
pub mod child;
pub mod config;
pub mod pools;
pub mod truth;
pub mod write;

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use config::{EoirLayout, GenConfig};
pub use truth::Truth;

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("writing into {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("--from {from} is after --to {to}")]
    Dates { from: String, to: String },
}

/// Each child's generator is seeded from the run's seed and the child's
/// number alone, so child 17 is the same whatever `--children` says.
fn child_rng(seed: u64, child: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ child.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Writes `ice/`, `hhs/`, `doj/` and `truth.json` into `out`. `progress`
/// is called with the number of children written so far.
pub fn generate(
    config: &GenConfig,
    out: &Path,
    mut progress: impl FnMut(u64),
) -> Result<Truth, GenError> {
    if config.from > config.to {
        return Err(GenError::Dates {
            from: config.from.to_string(),
            to: config.to.to_string(),
        });
    }
    let io = |source| GenError::Io {
        path: out.display().to_string(),
        source,
    };
    let mut writers =
        write::Writers::create(out, config.faults.clone(), config.eoir_layout, config.seed)
            .map_err(io)?;
    let mut truth = Truth {
        config: config.clone(),
        ..Truth::default()
    };
    for i in 0..config.children {
        let mut rng = child_rng(config.seed, i);
        child::generate(i, config, &mut rng, &mut writers, &mut truth).map_err(io)?;
        if i % 10_000 == 0 {
            progress(i);
        }
    }
    writers.finish().map_err(io)?;
    progress(config.children);
    let json = serde_json::to_vec_pretty(&truth).expect("truth serialises");
    std::fs::write(out.join("truth.json"), json).map_err(io)?;
    Ok(truth)
}
