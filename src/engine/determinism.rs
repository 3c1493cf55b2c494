//! The determinism self-check: every seed run on a reused simulation and on a fresh one
//! must give the same verdict, trace hash and choices, and no run may change model state
//! that nothing resets.
//!
//! A reused [`Sim`] is what makes sweeps cheap, and the one way it can go wrong is state
//! that survives from one run into the next. This check catches it loudly, whichever way
//! the model keeps its state.

use crate::engine::sim::{Outcome, Sim};
use std::fmt;
use std::ops::Range;

/// What the check found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nondeterminism {
    /// A seed ran differently on the reused simulation than on a fresh one.
    Differs {
        /// The seed.
        seed: u64,
        /// What differed, reused first.
        what: String,
    },
    /// A run changed resources that no reset or setup system put back.
    Unreset {
        /// Their type names.
        resources: Vec<String>,
    },
    /// A fresh simulation could not be built.
    Build(String),
}

impl fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nondeterminism::Differs { seed, what } => {
                write!(f, "seed {seed} runs differently on a reused simulation than on a fresh one: {what}")
            }
            Nondeterminism::Unreset { resources } => write!(
                f,
                "a run changed {} that nothing resets between runs (insert it with `insert_sim_resource`, \
                 register an `add_reset`, or rebuild it in a setup system): {}",
                if resources.len() == 1 { "a resource" } else { "resources" },
                resources.join(", ")
            ),
            Nondeterminism::Build(e) => write!(f, "cannot build a fresh simulation: {e}"),
        }
    }
}

impl std::error::Error for Nondeterminism {}

/// Run every seed in `seeds` on one reused simulation (after a warm-up run of a different
/// seed, so that state left over by a run would show) and on a fresh one from `build`.
/// Returns the number of seeds checked.
pub fn check<E: fmt::Display>(
    mut build: impl FnMut() -> Result<Sim, E>,
    seeds: Range<u64>,
) -> Result<u64, Nondeterminism> {
    let mut fresh = || build().map_err(|e| Nondeterminism::Build(e.to_string()));
    let mut reused = fresh()?;
    reused.audit_resets(true);
    // Warm the reused simulation up on a seed outside the range.
    reused.seed(seeds.end.wrapping_add(7919));
    let mut n = 0;
    for seed in seeds {
        let a = reused.seed(seed);
        let a_tape = reused.choices().to_vec();
        let mut f = fresh()?;
        let b = f.seed(seed);
        if let Some(what) = difference(&a, &b) {
            return Err(Nondeterminism::Differs { seed, what });
        }
        if a_tape != f.choices() {
            let at =
                a_tape.iter().zip(f.choices()).position(|(x, y)| x != y).unwrap_or(a_tape.len().min(f.choices().len()));
            return Err(Nondeterminism::Differs { seed, what: format!("the choices differ from choice {at} on") });
        }
        n += 1;
    }
    if !reused.unreset_resources().is_empty() {
        return Err(Nondeterminism::Unreset { resources: reused.unreset_resources().to_vec() });
    }
    Ok(n)
}

fn difference(a: &Outcome, b: &Outcome) -> Option<String> {
    if a.trace_hash != b.trace_hash {
        return Some(format!("trace {} vs {}", a.trace_hash, b.trace_hash));
    }
    if a.verdict != b.verdict {
        return Some(format!("{} vs {}", a.verdict.summary(), b.verdict.summary()));
    }
    if a.metrics != b.metrics {
        return Some("the metrics differ".into());
    }
    None
}
