//! `swarm`: swarm testing (Groce et al.; TigerBeetle's simulator draws its fault
//! probabilities per run the same way). Each run first decides, per choice label, whether
//! that kind of fault is on and how it behaves, so some runs are calm, some are storms of
//! one kind, and a race that needs one fault and the absence of another is found far more
//! often than when every fault is always on at its average rate.
//!
//! Labels are whatever the program asks: `wire.drop`, `wire.duplicate`, `wire.delay`,
//! `wire.order`, `step.at`, and each model's own. The mode of a label comes from a stream
//! seeded by (seed, label), so it does not depend on the order labels are met in.

use super::{Decide, Execution, Flow, Next, Ran, SeedRuns, Seeds, Strategy, fnv1a};
use crate::engine::Tape;
use crate::engine::tape::Hint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How one label behaves during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Always the calm value: the fault kind is off.
    Off,
    /// A yes/no fault at this rate (between a quarter and four times the plan's).
    Rate(f64),
    /// Any value alike.
    Uniform,
    /// Mostly small values (short delays, early ticks, FIFO-ish order).
    Low,
    /// Mostly large values (long delays, late ticks, reversed order).
    High,
}

impl Mode {
    fn json(self) -> serde_json::Value {
        match self {
            Mode::Off => "off".into(),
            Mode::Rate(p) => serde_json::json!({ "rate": (p * 1e4).round() / 1e4 }),
            Mode::Uniform => "uniform".into(),
            Mode::Low => "low".into(),
            Mode::High => "high".into(),
        }
    }
}

/// The swarm decider of one run.
pub struct Swarm {
    seed: u64,
    rng: ChaCha8Rng,
    modes: Vec<(String, Mode)>,
}

impl Swarm {
    /// The swarm strategy for `seed`.
    pub fn new(seed: u64) -> Self {
        Swarm { seed, rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5357_4152_4d00_0000), modes: Vec::new() }
    }

    fn mode(&mut self, label: &str, hint: Hint) -> Mode {
        if let Some((_, m)) = self.modes.iter().find(|(l, _)| l == label) {
            return *m;
        }
        let mut pick = ChaCha8Rng::seed_from_u64(self.seed ^ fnv1a(label.as_bytes()));
        let mode = match hint {
            Hint::Chance(p) => {
                if pick.random_bool(0.5) {
                    Mode::Off
                } else {
                    let scale = 2f64.powf(pick.random_range(-2.0..2.0));
                    Mode::Rate((p * scale).clamp(0.0, 0.95))
                }
            }
            Hint::Uniform => match pick.random_range(0..4u32) {
                0 => Mode::Off,
                1 => Mode::Uniform,
                2 => Mode::Low,
                _ => Mode::High,
            },
        };
        self.modes.push((label.to_owned(), mode));
        mode
    }
}

impl Decide for Swarm {
    fn decide(&mut self, label: &str, n: u32, hint: Hint) -> u32 {
        // A label asked once as a chance and once as a range keeps its first mode; map it.
        let skewed = |rng: &mut ChaCha8Rng| {
            let u: f64 = rng.random();
            ((u * u * u) * f64::from(n)).floor().min(f64::from(n - 1)) as u32
        };
        match self.mode(label, hint) {
            Mode::Off => 0,
            Mode::Rate(p) => match hint {
                Hint::Chance(_) => u32::from(self.rng.random_bool(p)),
                Hint::Uniform => self.rng.random_range(0..n),
            },
            Mode::Uniform => self.rng.random_range(0..n),
            Mode::Low => skewed(&mut self.rng),
            Mode::High => n - 1 - skewed(&mut self.rng),
        }
    }

    fn params(&self) -> serde_json::Value {
        let mut modes: Vec<&(String, Mode)> = self.modes.iter().collect();
        modes.sort_by(|a, b| a.0.cmp(&b.0));
        serde_json::Value::Object(modes.into_iter().map(|(l, m)| (l.clone(), m.json())).collect())
    }
}

/// One swarm run per seed.
pub struct SwarmRuns {
    runs: SeedRuns,
}

impl SwarmRuns {
    /// The runs of `seeds`.
    pub fn new(seeds: Seeds) -> SwarmRuns {
        SwarmRuns { runs: SeedRuns::new(seeds) }
    }
}

impl Strategy for SwarmRuns {
    fn name(&self) -> &'static str {
        "swarm"
    }

    fn new_execution(&mut self) -> Next {
        match self.runs.next_seed() {
            Some(seed) => Next::Run(Execution::new(seed, Tape::with_strategy(Box::new(Swarm::new(seed))))),
            None => Next::Done,
        }
    }

    fn observe(&mut self, _: &Ran) -> Flow {
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(self.runs.planned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_do_not_depend_on_the_order_labels_are_met_in() {
        let mut a = Swarm::new(7);
        let mut b = Swarm::new(7);
        a.decide("wire.delay", 10, Hint::Uniform);
        a.decide("wire.drop", 2, Hint::Chance(0.1));
        b.decide("wire.drop", 2, Hint::Chance(0.1));
        b.decide("wire.delay", 10, Hint::Uniform);
        assert_eq!(a.params(), b.params());
    }

    #[test]
    fn both_calm_and_stormy_runs_occur() {
        let off = (0..200).filter(|&s| Swarm::new(s).mode("wire.drop", Hint::Chance(0.1)) == Mode::Off).count();
        assert!((60..140).contains(&off), "{off} of 200 runs have drops off");
    }
}
