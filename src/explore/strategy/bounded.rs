//! `bounded`: the calm run plus at most `k` deviations, for k = 0, 1, 2, ... (as in
//! delay-bounded and preemption-bounded scheduling).
//!
//! A deviation is a choice whose value differs from the calm value 0: a fault, a longer
//! delay, another order, a later tick of a window. The search deepens: first the calm run
//! (level 0), then every run with one deviation (level 1), then two, and so on. Each level
//! runs in full before the next starts, so the first failure found has the fewest deviations
//! any failure has, and a level that passes in full is a certificate: *no violation of any
//! invariant within k deviations*, for every tape, not a sample.
//!
//! Where a deviation can go comes from the runs themselves. A run with deviations at
//! positions `p1 < ... < pk` replays the calm value everywhere else; its children deviate
//! once more, at a position after `pk` of *its own* tape, with any of that choice's other
//! values. Choices a run does not ask for are never deviated, and since a child is the same
//! run as its parent up to its new deviation, it asks the same question there. Adding
//! deviations in position order generates every set of deviations exactly once, so no tape
//! is run twice (runs whose traces coincide are counted as distinct traces in the report).
//!
//! Within a level, runs go in passes by how far their values are from calm: a choice's values
//! are ranked `n-1` first (the extreme: the longest delay, the latest tick, the last candidate
//! first), then `1, 2, ..., n-2`, and pass `s` holds the runs whose deviations' ranks add up
//! to `s`. So every position is tried at its extremes, then one step from calm, before finer
//! values and combinations of them; a level's runs are the same set whatever the order, only
//! what is found first changes.
//!
//! Run `N` of the search (from 0, the calm run) is `racelab run --strategy bounded --seed N`;
//! numbering does not depend on the budget or the bound.

use super::{Decide, Execution, Flow, Next, Ran, Strategy};
use crate::engine::Tape;
use crate::engine::tape::Hint;
use std::collections::HashSet;

/// How far to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The most deviations a run may have (the deepest level).
    pub max_deviations: u32,
    /// The most runs, counted by run number: the search stops before run `budget`.
    pub budget: u64,
    /// End the search at its first failing run.
    pub stop_at_failure: bool,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_deviations: 10, budget: 100_000, stop_at_failure: true }
    }
}

/// A run of a level, kept to generate the next level.
struct Parent {
    /// Its deviations: (position, value, rank of the value).
    devs: Vec<(u32, u32, u32)>,
    /// The sum of their ranks.
    sum: u32,
    /// The first position a child may deviate at.
    start: u32,
    /// The range `n` of each choice from `start` on.
    ns: Vec<u32>,
    /// The largest of `ns`.
    max_n: u32,
}

/// Where the enumeration of a level stands: pass, parent, position.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    pass: u32,
    parent: usize,
    pos: usize,
}

/// The value of rank `rank` among a choice's `n - 1` non-calm values: `n-1` first, then
/// `1, 2, ..., n-2`.
pub fn value_of_rank(n: u32, rank: u32) -> u32 {
    if rank == 0 { n - 1 } else { rank }
}

/// The first failure found.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its run number.
    pub seed: u64,
    /// Its deviations: (position on its tape, value).
    pub deviations: Vec<(u32, u32)>,
    /// What it broke first (the verdict's check).
    pub check: String,
}

/// What a bounded search concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conclusion {
    /// A failing run with this many deviations; none with fewer fails.
    Fails {
        /// Its deviations.
        deviations: u32,
        /// Its run number.
        seed: u64,
    },
    /// Every run with at most `bound` deviations passes.
    Certified {
        /// The deepest level completed.
        bound: u32,
        /// Whether no run has more deviations (the level after was empty): every run passes.
        everything: bool,
    },
    /// Not even the calm run finished (no budget).
    Nothing,
}

/// The bounded search.
pub struct Bounded {
    bounds: Bounds,
    depth: u32,
    parents: Vec<Parent>,
    children: Vec<Parent>,
    cursor: Cursor,
    max_pass: u32,
    level_size: u64,
    level_start: u64,
    level_out: u64,
    level_seen: u64,
    level_failed: bool,
    /// The next run number.
    next: u64,
    /// Deviations of the runs handed out and not yet observed, in order.
    outstanding: std::collections::VecDeque<Vec<(u32, u32, u32)>>,
    runs: u64,
    traces: HashSet<u64>,
    seek: Option<u64>,
    found: Option<Found>,
    completed: Option<u32>,
    everything: bool,
    done: bool,
    nondeterministic: Option<String>,
}

impl Bounded {
    /// A search within `bounds`.
    pub fn new(bounds: Bounds) -> Bounded {
        Bounded {
            bounds,
            depth: 0,
            parents: Vec::new(),
            children: Vec::new(),
            cursor: Cursor::default(),
            max_pass: 0,
            level_size: 1,
            level_start: 0,
            level_out: 0,
            level_seen: 0,
            level_failed: false,
            next: 0,
            outstanding: std::collections::VecDeque::new(),
            runs: 0,
            traces: HashSet::new(),
            seek: None,
            found: None,
            completed: None,
            everything: false,
            done: false,
            nondeterministic: None,
        }
    }

    /// Hand out only run `seed` (and the runs of earlier levels its level is built from).
    pub fn seek(&mut self, seed: u64) {
        self.seek = Some(seed);
    }

    /// The first failure, if one was found.
    pub fn found(&self) -> Option<&Found> {
        self.found.as_ref()
    }

    /// Runs made.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Distinct trace hashes among the runs made.
    pub fn distinct(&self) -> usize {
        self.traces.len()
    }

    /// The deepest level run in full without a failure.
    pub fn completed(&self) -> Option<u32> {
        self.completed
    }

    /// The level being run (or the last one run), its size, and how many of its runs passed.
    pub fn level(&self) -> (u32, u64, u64) {
        (self.depth, self.level_size, self.level_seen)
    }

    /// Set when a run did not replay its parent's choices: the model is not deterministic.
    pub fn nondeterministic(&self) -> Option<&str> {
        self.nondeterministic.as_deref()
    }

    /// What the search concluded.
    pub fn conclusion_kind(&self) -> Conclusion {
        if let Some(f) = &self.found {
            return Conclusion::Fails { deviations: f.deviations.len() as u32, seed: f.seed };
        }
        match self.completed {
            Some(bound) => Conclusion::Certified { bound, everything: self.everything },
            None => Conclusion::Nothing,
        }
    }

    /// Move to the next level; `false` when there is none.
    fn next_level(&mut self) -> bool {
        if !self.level_failed {
            self.completed = Some(self.depth);
        }
        if self.depth >= self.bounds.max_deviations {
            return false;
        }
        self.parents = std::mem::take(&mut self.children);
        self.depth += 1;
        self.level_start = self.next;
        self.level_size = self.parents.iter().map(|p| p.ns.iter().map(|&n| u64::from(n - 1)).sum::<u64>()).sum();
        self.max_pass = self.parents.iter().map(|p| p.sum + p.max_n.saturating_sub(2)).max().unwrap_or(0);
        self.level_out = 0;
        self.level_seen = 0;
        self.level_failed = false;
        self.cursor = Cursor::default();
        if self.level_size == 0 {
            // No run of the last level has a choice after its last deviation: no tape has
            // more deviations, and every one has been run.
            self.everything = self.found.is_none();
            self.depth -= 1;
            return false;
        }
        true
    }

    /// The next child of the level: (parent, position, value, rank).
    fn next_child(&mut self) -> Option<(usize, u32, u32, u32)> {
        let c = &mut self.cursor;
        loop {
            if c.pass > self.max_pass {
                return None;
            }
            let Some(p) = self.parents.get(c.parent) else {
                (c.pass, c.parent, c.pos) = (c.pass + 1, 0, 0);
                continue;
            };
            // In pass `s` a parent whose ranks sum to `t` gets children of rank `s - t`.
            let Some(rank) = c.pass.checked_sub(p.sum).filter(|&r| r + 2 <= p.max_n) else {
                (c.parent, c.pos) = (c.parent + 1, 0);
                continue;
            };
            let Some(&n) = p.ns.get(c.pos) else {
                (c.parent, c.pos) = (c.parent + 1, 0);
                continue;
            };
            c.pos += 1;
            if rank + 1 < n {
                return Some((c.parent, p.start + c.pos as u32 - 1, value_of_rank(n, rank), rank));
            }
        }
    }
}

/// Answers calm everywhere but at the listed positions.
struct Deviate {
    devs: Vec<(u32, u32)>,
    pos: u32,
    next: usize,
}

impl Decide for Deviate {
    fn decide(&mut self, _label: &str, n: u32, _hint: Hint) -> u32 {
        let mut v = 0;
        if let Some(&(p, value)) = self.devs.get(self.next)
            && p == self.pos
        {
            self.next += 1;
            v = value.min(n - 1);
        }
        self.pos += 1;
        v
    }
}

impl Strategy for Bounded {
    fn name(&self) -> &'static str {
        "bounded"
    }

    fn new_execution(&mut self) -> Next {
        loop {
            if self.done {
                return Next::Done;
            }
            if self.next >= self.bounds.budget {
                if self.level_seen < self.level_out {
                    return Next::Wait;
                }
                self.done = true;
                continue;
            }
            let devs = if self.depth == 0 {
                (self.level_out == 0).then(Vec::new)
            } else {
                self.next_child().map(|(parent, pos, value, rank)| {
                    let mut devs = self.parents[parent].devs.clone();
                    devs.push((pos, value, rank));
                    devs
                })
            };
            let Some(devs) = devs else {
                // The level is handed out: wait for it, then start the next.
                if self.level_seen < self.level_out {
                    return Next::Wait;
                }
                if !self.next_level() {
                    self.done = true;
                }
                continue;
            };
            let seed = self.next;
            self.next += 1;
            self.level_out += 1;
            if let Some(target) = self.seek {
                let level_end = self.level_start + self.level_size;
                // Runs of the target's own level before it are not needed; earlier levels are.
                if target < level_end && seed != target {
                    self.level_seen += 1;
                    if seed > target {
                        self.done = true;
                    }
                    continue;
                }
            }
            let plain: Vec<(u32, u32)> = devs.iter().map(|&(p, v, _)| (p, v)).collect();
            let params = serde_json::json!({
                "deviations": plain.iter().map(|&(p, v)| [p, v]).collect::<Vec<_>>(),
            });
            self.outstanding.push_back(devs);
            let decider = Deviate { devs: plain, pos: 0, next: 0 };
            let execution = Execution::new(seed, Tape::with_strategy(Box::new(decider))).recorded();
            return Next::Run(execution.with_params(params));
        }
    }

    fn observe(&mut self, ran: &Ran) -> Flow {
        let devs = self.outstanding.pop_front().unwrap_or_default();
        self.level_seen += 1;
        self.runs += 1;
        if let Ok(h) = u64::from_str_radix(&ran.outcome.trace_hash, 16) {
            self.traces.insert(h);
        }
        let choices = ran.choices.as_deref().unwrap_or_default();
        if let Some(&(p, v, _)) = devs.iter().find(|&&(p, v, _)| choices.get(p as usize).map(|c| c.value) != Some(v)) {
            self.nondeterministic = Some(format!(
                "run {} was to deviate at choice {p} with value {v}, but the run asked something else there (the model is not deterministic)",
                ran.seed
            ));
            self.done = true;
            return Flow::Stop;
        }
        if ran.failed() {
            self.level_failed = true;
            if self.found.is_none() {
                self.found = Some(Found {
                    seed: ran.seed,
                    deviations: devs.iter().map(|&(p, v, _)| (p, v)).collect(),
                    check: ran.outcome.verdict.failed_check().unwrap_or("?").to_owned(),
                });
            }
            if self.bounds.stop_at_failure {
                self.done = true;
                return Flow::Stop;
            }
        }
        if self.depth < self.bounds.max_deviations {
            let start = devs.last().map_or(0, |&(p, _, _)| p + 1);
            let ns: Vec<u32> = choices.iter().skip(start as usize).map(|c| c.n).collect();
            let max_n = ns.iter().copied().max().unwrap_or(0);
            let sum = devs.iter().map(|&(_, _, r)| r).sum();
            self.children.push(Parent { devs, sum, start, ns, max_n });
        }
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(self.bounds.budget)
    }

    fn conclusion(&self) -> Option<String> {
        Some(self.summary())
    }

    fn abandoned(&self) -> Option<String> {
        self.nondeterministic.clone()
    }
}

impl Bounded {
    /// The conclusion as one line for people.
    pub fn summary(&self) -> String {
        let runs = |n: u64| if n == 1 { "1 run".to_owned() } else { format!("{n} runs") };
        let devs = |k: u32| if k == 1 { "1 deviation".to_owned() } else { format!("{k} deviations") };
        if let Some(why) = &self.nondeterministic {
            return format!("search abandoned after {}: {why}", runs(self.runs));
        }
        let distinct = format!("{} distinct traces", self.traces.len());
        match self.conclusion_kind() {
            Conclusion::Fails { deviations, seed } => {
                let fewest = match deviations {
                    0 => "the calm run fails".to_owned(),
                    k => format!("fails with {} (none with fewer fails)", devs(k)),
                };
                format!("{fewest}: run {seed} of the search, after {}", runs(self.runs))
            }
            Conclusion::Certified { bound, everything: true } => format!(
                "no violation of any invariant in any run: {} ({distinct}), every run there is (none has more than {})",
                runs(self.runs),
                devs(bound)
            ),
            Conclusion::Certified { bound, .. } => {
                let mut s = format!(
                    "no violation of any invariant within {}: {} ({distinct}), exhaustive at this bound",
                    devs(bound),
                    runs(self.runs)
                );
                let (level, size, seen) = self.level();
                if level > bound && seen > 0 {
                    s.push_str(&format!("; {seen} of the {size} runs with {} pass", devs(level)));
                }
                s
            }
            Conclusion::Nothing => format!("no bound certified: {}", runs(self.runs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(devs: Vec<(u32, u32, u32)>, start: u32, ns: Vec<u32>) -> Parent {
        let sum = devs.iter().map(|d| d.2).sum();
        let max_n = ns.iter().copied().max().unwrap_or(0);
        Parent { devs, sum, start, ns, max_n }
    }

    #[test]
    fn a_level_enumerates_each_child_once_extremes_first() {
        let mut b = Bounded::new(Bounds::default());
        b.parents = vec![parent(Vec::new(), 0, vec![3, 2, 4])];
        b.max_pass = 2;
        let mut seen = Vec::new();
        while let Some((_, pos, value, _)) = b.next_child() {
            seen.push((pos, value));
        }
        // Pass 0: each position at its extreme; pass 1: value 1 where that is not the extreme;
        // pass 2: value 2 of the 4-valued choice.
        assert_eq!(seen, vec![(0, 2), (1, 1), (2, 3), (0, 1), (2, 1), (2, 2)]);
    }

    #[test]
    fn children_of_a_fine_parent_wait_for_their_pass() {
        let mut b = Bounded::new(Bounds::default());
        // Parent A deviated with rank 0 (an extreme), parent B with rank 1: the children's
        // ranks add up to 0, 1, 1, 2.
        b.parents = vec![parent(vec![(0, 2, 0)], 1, vec![3]), parent(vec![(0, 1, 1)], 1, vec![3])];
        b.max_pass = 2;
        let mut seen = Vec::new();
        while let Some((parent, pos, value, rank)) = b.next_child() {
            seen.push((parent, pos, value, rank));
        }
        assert_eq!(seen, vec![(0, 1, 2, 0), (0, 1, 1, 1), (1, 1, 2, 0), (1, 1, 1, 1)]);
    }

    #[test]
    fn a_fine_parent_still_gets_children_on_choices_with_few_values() {
        let mut b = Bounded::new(Bounds::default());
        b.parents = vec![parent(vec![(0, 5, 5)], 1, vec![2])];
        b.max_pass = 5;
        let mut seen = Vec::new();
        while let Some((_, pos, value, rank)) = b.next_child() {
            seen.push((pos, value, rank));
        }
        assert_eq!(seen, vec![(1, 1, 0)]);
    }
}
