//! `exhaustive`: depth-first over every tape of a small scenario, within a bound.
//!
//! A run is a path in the tree of its choices: each `choose(label, n)` is a node with `n`
//! children. The explorer replays a prefix of values and lets every later choice take its
//! calm value 0, reads back what the run asked for, and moves to the next path by bumping
//! the deepest choice that still has an untried value (dropping everything after it).
//! Since a run is a function of its tape, this visits every distinct run exactly once, so a
//! fixed variant can be reported as "all N tapes pass", not only "N random seeds passed".
//!
//! It knows nothing of any model: it hands out one run at a time (the next depends on what
//! the last asked for) and reads back the recorded [`Choice`]s. Run `N` of the search (from 0,
//! the calm run) is `racelab run --strategy exhaustive --seed N`.

use super::{Decide, Execution, Flow, Next, Ran, Strategy};
use crate::engine::tape::Hint;
use crate::engine::{Choice, Outcome, Sim, Tape};
use crate::explore::pool;
use std::fmt;

/// How far to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Stop after this many runs.
    pub max_tapes: u64,
    /// Branch only on the first this many choices of a run; later ones keep their calm value.
    pub max_depth: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { max_tapes: 100_000, max_depth: 256 }
    }
}

/// The first failing run found.
#[derive(Clone, Debug)]
pub struct Failing {
    /// How many tapes the search ran up to and including it (1-based).
    pub index: u64,
    /// Its run number (from 0, the calm run): `racelab run --strategy exhaustive --seed N`.
    pub seed: u64,
    /// Its tape, to replay with [`Sim::tape`].
    pub tape: Vec<Choice>,
    /// What it did.
    pub outcome: Outcome,
}

/// What the search found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Runs made.
    pub tapes: u64,
    /// The most choices one run made.
    pub deepest: usize,
    /// Whether `max_tapes` stopped the search with paths left to try.
    pub tapes_cut: bool,
    /// Runs that made more than `max_depth` choices (their later choices were not branched).
    pub depth_cut: u64,
    /// The bounds used.
    pub bounds: Bounds,
    /// The first failing run, which ends the search.
    pub failure: Option<Failing>,
    /// Set when a run asked for something other than the same prefix asked for before: the
    /// model is not deterministic and the count means nothing.
    pub nondeterministic: Option<String>,
}

impl Report {
    /// Whether every tape was run (no bound cut the search, nothing failed).
    pub fn complete(&self) -> bool {
        !self.tapes_cut && self.depth_cut == 0 && self.failure.is_none() && self.nondeterministic.is_none()
    }

    /// Whether every run made passed.
    pub fn all_pass(&self) -> bool {
        self.failure.is_none() && self.nondeterministic.is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.nondeterministic {
            return write!(f, "search abandoned after {} tapes: {why}", self.tapes);
        }
        if let Some(fail) = &self.failure {
            write!(f, "run {} of the search fails: {}", fail.seed, fail.outcome.verdict.summary())?;
            write!(f, "\n  tape ({} choices):", fail.tape.len())?;
            for c in &fail.tape {
                write!(f, " {}={}/{}", c.label, c.value, c.n)?;
            }
            return Ok(());
        }
        if self.complete() {
            return write!(
                f,
                "all {} tapes pass (search complete; deepest run made {} choices)",
                self.tapes, self.deepest
            );
        }
        write!(f, "all {} tapes explored pass, but the bound cut the search, so this is not every tape:", self.tapes)?;
        if self.tapes_cut {
            write!(f, " the limit of {} tapes was reached with paths left to try;", self.bounds.max_tapes)?;
        }
        if self.depth_cut > 0 {
            let runs = if self.depth_cut == 1 { "run" } else { "runs" };
            write!(
                f,
                " {} {runs} made more than {} choices (the deepest {}), and the later choices kept their calm value;",
                self.depth_cut, self.bounds.max_depth, self.deepest
            )?;
        }
        Ok(())
    }
}

/// Replays `prefix`, then answers 0 (calm) to every later choice.
struct Prefix {
    values: Vec<u32>,
    pos: usize,
}

impl Decide for Prefix {
    fn decide(&mut self, _label: &str, _n: u32, _hint: Hint) -> u32 {
        let v = self.values.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
}

/// The depth-first search as a strategy: one run at a time.
pub struct Exhaustive {
    report: Report,
    prefix: Vec<u32>,
    pending: bool,
    done: bool,
    go_on: bool,
}

impl Exhaustive {
    /// A search within `bounds` that stops at its first failure.
    pub fn new(bounds: Bounds) -> Exhaustive {
        Exhaustive {
            report: Report {
                tapes: 0,
                deepest: 0,
                tapes_cut: false,
                depth_cut: 0,
                bounds,
                failure: None,
                nondeterministic: None,
            },
            prefix: Vec::new(),
            pending: false,
            done: false,
            go_on: false,
        }
    }

    /// The same, going on past failures (the first is still the one reported).
    pub fn going_on(mut self) -> Exhaustive {
        self.go_on = true;
        self
    }

    /// What the search found so far.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

impl Strategy for Exhaustive {
    fn name(&self) -> &'static str {
        "exhaustive"
    }

    fn new_execution(&mut self) -> Next {
        if self.done {
            return Next::Done;
        }
        if self.pending {
            return Next::Wait;
        }
        self.pending = true;
        let decider = Prefix { values: self.prefix.clone(), pos: 0 };
        let params = serde_json::json!({
            "max_tapes": self.report.bounds.max_tapes,
            "max_depth": self.report.bounds.max_depth,
        });
        Next::Run(
            Execution::new(self.report.tapes, Tape::with_strategy(Box::new(decider))).recorded().with_params(params),
        )
    }

    fn observe(&mut self, ran: &Ran) -> Flow {
        self.pending = false;
        let report = &mut self.report;
        report.tapes += 1;
        let choices = ran.choices.as_deref().unwrap_or_default();
        let prefix = &self.prefix;
        let replayed = prefix.len() <= choices.len() && prefix.iter().zip(choices).all(|(v, c)| *v == c.value);
        if !replayed {
            let at = prefix.iter().zip(choices).position(|(v, c)| *v != c.value).unwrap_or(choices.len());
            report.nondeterministic = Some(format!(
                "a run given the same first {} values asked differently at choice {at} (the model is not deterministic)",
                prefix.len()
            ));
            self.done = true;
            return Flow::Stop;
        }
        report.deepest = report.deepest.max(choices.len());
        if choices.len() > report.bounds.max_depth {
            report.depth_cut += 1;
        }
        if ran.failed() && report.failure.is_none() {
            report.failure = Some(Failing {
                index: report.tapes,
                seed: ran.seed,
                tape: choices.to_vec(),
                outcome: ran.outcome.clone(),
            });
            if !self.go_on {
                self.done = true;
                return Flow::Stop;
            }
        }
        let limit = choices.len().min(report.bounds.max_depth);
        let Some(i) = (0..limit).rev().find(|&i| choices[i].value + 1 < choices[i].n) else {
            self.done = true;
            return Flow::Continue;
        };
        if report.tapes >= report.bounds.max_tapes {
            report.tapes_cut = true;
            self.done = true;
            return Flow::Continue;
        }
        self.prefix.clear();
        self.prefix.extend(choices[..i].iter().map(|c| c.value));
        self.prefix.push(choices[i].value + 1);
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(self.report.bounds.max_tapes)
    }

    fn conclusion(&self) -> Option<String> {
        Some(self.report.to_string())
    }

    fn abandoned(&self) -> Option<String> {
        self.report.nondeterministic.clone()
    }
}

/// Run every tape of `sim` (depth-first, calm values first) until one fails or `bounds` stop it.
pub fn explore(sim: &mut Sim, bounds: Bounds) -> Report {
    let mut search = Exhaustive::new(bounds);
    pool::drive_one(sim, &mut search, |_| true);
    search.report
}
