//! `pct`: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
//! "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010),
//! applied to the wire: senders play the part of threads.
//!
//! Every sender gets a random priority when first met (all above `depth`); `depth - 1`
//! change points are drawn among the run's sender-related choices. When envelopes due on
//! the same tick compete (`wire.order`), the one from the highest-priority sender goes
//! first; a message's delay (`wire.delay`) is short for high-priority senders and long for
//! low ones (in proportion to the priority, so a lone sender is not always the fastest). At the i-th change point the sender concerned drops to priority i, below every
//! initial one. A bug that needs `d` ordering constraints is then found with probability at
//! least 1 / (n k^(d-1)) per run, for n senders and k steps. Every other choice (drops,
//! duplicates, windows, model choices) is uniform within the fault plan, as in `random`.

use super::{Decide, Execution, Flow, Next, Ran, SeedRuns, Seeds, Strategy};
use crate::engine::Tape;
use crate::engine::ids::Id;
use crate::engine::tape::{About, Hint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The bug depth used unless told otherwise: two change points.
pub const DEFAULT_DEPTH: u32 = 3;

/// The PCT decider of one run.
pub struct Pct {
    rng: ChaCha8Rng,
    depth: u32,
    steps_hint: u64,
    change_points: Vec<u64>,
    changed: usize,
    step: u64,
    /// Priority per sender, in the order senders were met (ties, never expected, go to the
    /// earlier met; ids are not compared, since their numbering depends on earlier runs).
    senders: Vec<(Id, u64)>,
}

impl Pct {
    /// PCT for `seed` with bug depth `depth`, its change points drawn among the first
    /// `steps` sender-related choices.
    pub fn new(seed: u64, depth: u32, steps: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5043_5400_0000_0000);
        let mut change_points: Vec<u64> =
            (1..depth.max(1)).map(|_| if steps == 0 { u64::MAX } else { rng.random_range(0..steps) }).collect();
        change_points.sort_unstable();
        Pct { rng, depth: depth.max(1), steps_hint: steps, change_points, changed: 0, step: 0, senders: Vec::new() }
    }

    fn slot(&mut self, id: Id) -> usize {
        if let Some(i) = self.senders.iter().position(|(s, _)| *s == id) {
            return i;
        }
        let prio = self.rng.random_range(u64::from(self.depth)..u64::MAX);
        self.senders.push((id, prio));
        self.senders.len() - 1
    }

    /// Count a sender-related step; if it is a change point, the sender drops.
    fn tick(&mut self, sender: Id) -> bool {
        let step = self.step;
        self.step += 1;
        let mut hit = false;
        while self.change_points.get(self.changed).is_some_and(|&c| c == step) {
            self.changed += 1;
            let i = self.slot(sender);
            self.senders[i].1 = self.changed as u64;
            hit = true;
        }
        hit
    }

    /// Index (in `0..n`) of the candidate whose sender has the highest priority; the first
    /// such candidate, so a sender's own envelopes stay in order.
    fn best(&mut self, n: u32, sender_of: &dyn Fn(u32) -> Id) -> u32 {
        let mut best = (0, 0u64, usize::MAX);
        for i in 0..n {
            let slot = self.slot(sender_of(i));
            let prio = self.senders[slot].1;
            if i == 0 || prio > best.1 || (prio == best.1 && slot < best.2) {
                best = (i, prio, slot);
            }
        }
        best.0
    }
}

impl Decide for Pct {
    fn decide(&mut self, _label: &str, n: u32, hint: Hint) -> u32 {
        match hint {
            Hint::Uniform => self.rng.random_range(0..n),
            Hint::Chance(p) => u32::from(self.rng.random_bool(p.clamp(0.0, 1.0))),
        }
    }

    fn decide_about(&mut self, label: &str, n: u32, hint: Hint, about: About<'_>) -> u32 {
        match about {
            About::Nobody => self.decide(label, n, hint),
            About::Candidates(sender_of) => {
                let first = self.best(n, sender_of);
                if self.tick(sender_of(first)) { self.best(n, sender_of) } else { first }
            }
            About::Sender(id) => {
                self.tick(id);
                let slot = self.slot(id);
                let prio = self.senders[slot].1;
                // The delay follows the priority itself, not the rank among the senders met
                // so far: by rank, the first sender met was alone and always got the shortest
                // delay, so a race needing it to be slow was never found (hook_order). The
                // highest priorities get the shortest delays; a change point's low priority
                // (below every initial one) the longest.
                let span = u128::from(u64::MAX - 1);
                let below = u128::from(u64::MAX - 1 - prio.min(u64::MAX - 1));
                ((below * u128::from(n - 1) + span / 2) / span) as u32
            }
        }
    }

    fn params(&self) -> serde_json::Value {
        let points: Vec<u64> = self.change_points.iter().copied().filter(|&c| c != u64::MAX).collect();
        serde_json::json!({
            "depth": self.depth,
            "steps": self.steps_hint,
            "change_points": points,
            "steps_seen": self.step,
            "senders": self.senders.len(),
        })
    }
}

/// How many probe runs PCT makes to learn how many sender-related choices a run makes.
pub const PROBES: u64 = 3;

/// PCT over seeds. It first makes [`PROBES`] probe runs (seeds `0..PROBES`, depth 1, so no
/// change point) and takes the most sender-related choices any of them made as the range
/// its change points are drawn from; then one run per seed.
pub struct PctRuns {
    runs: SeedRuns,
    depth: u32,
    probes_out: u64,
    probes_seen: u64,
    steps: u64,
}

impl PctRuns {
    /// PCT with bug depth `depth` over `seeds`.
    pub fn new(seeds: Seeds, depth: u32) -> PctRuns {
        PctRuns { runs: SeedRuns::new(seeds), depth, probes_out: 0, probes_seen: 0, steps: 0 }
    }
}

impl Strategy for PctRuns {
    fn name(&self) -> &'static str {
        "pct"
    }

    fn new_execution(&mut self) -> Next {
        if self.probes_out < PROBES {
            let seed = self.probes_out;
            self.probes_out += 1;
            return Next::Run(Execution::new(seed, Tape::with_strategy(Box::new(Pct::new(seed, 1, 0)))).probe());
        }
        if self.probes_seen < PROBES {
            return Next::Wait;
        }
        match self.runs.next_seed() {
            Some(seed) => {
                Next::Run(Execution::new(seed, Tape::with_strategy(Box::new(Pct::new(seed, self.depth, self.steps)))))
            }
            None => Next::Done,
        }
    }

    fn observe(&mut self, ran: &Ran) -> Flow {
        if ran.probe {
            self.probes_seen += 1;
            let seen = ran.params.get("steps_seen").and_then(serde_json::Value::as_u64).unwrap_or(0);
            self.steps = self.steps.max(seen);
        }
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
    fn the_highest_priority_sender_goes_first_and_keeps_its_order() {
        let mut p = Pct::new(1, 1, 0);
        let senders = [Id(5), Id(6), Id(5)];
        let first = p.decide_about("wire.order", 3, Hint::Uniform, About::Candidates(&|i| senders[i as usize]));
        let top = if p.senders[0].1 > p.senders[1].1 { 0 } else { 1 };
        assert_eq!(first, top, "sender 5's first envelope or sender 6's");
    }

    #[test]
    fn a_change_point_demotes_the_sender_below_every_other() {
        let mut p = Pct::new(3, 2, 1); // one change point, at step 0
        let senders = [Id(1), Id(2)];
        let pick = p.decide_about("wire.order", 2, Hint::Uniform, About::Candidates(&|i| senders[i as usize]));
        // The sender that would have gone first was demoted at the change point; the other went.
        let (went, demoted) = (senders[pick as usize], senders[1 - pick as usize]);
        assert!(p.senders.iter().any(|(s, prio)| *s == went && *prio > 1));
        assert!(p.senders.iter().any(|(s, prio)| *s == demoted && *prio == 1));
    }

    #[test]
    fn delays_follow_priority() {
        for seed in 0..50 {
            let mut p = Pct::new(seed, 1, 0);
            let a = p.decide_about("wire.delay", 10, Hint::Uniform, About::Sender(Id(1)));
            let b = p.decide_about("wire.delay", 10, Hint::Uniform, About::Sender(Id(2)));
            let prio = |id| p.senders.iter().find(|(s, _)| *s == id).map(|(_, p)| *p).unwrap_or(0);
            if prio(Id(1)) > prio(Id(2)) {
                assert!(a <= b, "seed {seed}: the higher priority waits no longer");
            } else {
                assert!(b <= a, "seed {seed}: the higher priority waits no longer");
            }
        }
        // A lone sender is not always the fastest: its delay follows its own priority.
        let lone: Vec<u32> = (0..50)
            .map(|seed| Pct::new(seed, 1, 0).decide_about("wire.delay", 10, Hint::Uniform, About::Sender(Id(1))))
            .collect();
        assert!(lone.iter().any(|&d| d >= 5) && lone.iter().any(|&d| d <= 4), "{lone:?}");
        // Demoted to priority 1 at a change point: the longest delay.
        let mut p = Pct::new(3, 2, 1);
        assert_eq!(p.decide_about("wire.delay", 10, Hint::Uniform, About::Sender(Id(1))), 9);
    }
}
