//! Search strategies: how the values of a run's choices are decided, one file each behind
//! the engine's [`Strategy`] trait (as awslabs/shuttle keeps one scheduler per file).
//!
//! A strategy is built per run from the run's seed, so a seed names a run under a given
//! strategy and the failures of a sweep do not depend on how many workers ran it.

pub mod pct;
pub mod random;
pub mod swarm;

use crate::engine::Sim;
use crate::engine::tape::{Strategy, Tape};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which strategy decides the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Uniform within the fault plan (the seed means what `racelab run --seed` means).
    Random,
    /// Each run draws its own fault rates and which fault kinds are on.
    Swarm,
    /// Random priorities per sender with a few priority change points.
    Pct,
}

impl StrategyKind {
    /// Every strategy, in the order reports list them.
    pub const ALL: [StrategyKind; 3] = [StrategyKind::Random, StrategyKind::Swarm, StrategyKind::Pct];

    /// The default of `racelab sweep` and `racelab matrix`: the strategy that found the
    /// known races in the fewest seeds in `benches/explore.rs` (see docs/sweeps.md): over
    /// the 45 rows where the strategy matters, PCT needed the fewest seeds (geometric mean
    /// of the medians 4.54, random 4.76, swarm 6.07) and was fastest in the most rows.
    pub const DEFAULT: StrategyKind = StrategyKind::Pct;

    /// The name on the command line and in failure files.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Random => "random",
            StrategyKind::Swarm => "swarm",
            StrategyKind::Pct => "pct",
        }
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown strategy `{s}`; expected one of: {}", names.join(", "))
        })
    }
}

/// What a strategy may know of the (scenario, variant) it explores before its first run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    /// PCT: how many choices about senders a run makes (where change points may fall).
    pub pct_steps: u64,
}

/// A strategy for one (scenario, variant): builds the tape of each seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explorer {
    /// Which strategy.
    pub kind: StrategyKind,
    /// PCT's bug depth `d` (d - 1 priority change points).
    pub pct_depth: u32,
    /// What the strategy learned from a probe run.
    pub calibration: Calibration,
}

impl Explorer {
    /// Calibrate `kind` for the simulation `sim` (one probe run for PCT; none otherwise).
    pub fn calibrate(kind: StrategyKind, sim: &mut Sim) -> Explorer {
        let mut calibration = Calibration { pct_steps: 0 };
        if kind == StrategyKind::Pct {
            calibration.pct_steps = pct::probe_steps(sim);
        }
        Explorer { kind, pct_depth: pct::DEFAULT_DEPTH, calibration }
    }

    /// The strategy deciding seed `seed`'s run.
    pub fn strategy(&self, seed: u64) -> Box<dyn Strategy> {
        match self.kind {
            StrategyKind::Random => Box::new(random::strategy(seed)),
            StrategyKind::Swarm => Box::new(swarm::Swarm::new(seed)),
            StrategyKind::Pct => Box::new(pct::Pct::new(seed, self.pct_depth, self.calibration.pct_steps)),
        }
    }

    /// The tape of seed `seed`'s run.
    pub fn tape(&self, seed: u64) -> Tape {
        Tape::with_strategy(self.strategy(seed))
    }
}

/// A 64-bit FNV-1a hash, to derive per-label streams that do not depend on the order labels
/// are met in.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
