//! The decision tape: the only source of nondeterminism in a run.
//!
//! Every choice goes through [`Tape::choose`] (or the helpers built on it) and is recorded
//! as `(label, n, value)`. Value 0 is always the calm choice: no fault, the shortest delay,
//! FIFO order, the earliest tick of a window. A [`Strategy`] decides the values; replay
//! feeds a recorded tape back and stops at the first step where the run asks for something
//! other than what the tape holds.

use crate::engine::ids::Id;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One recorded decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What was decided ("wire.delay", "step.at", "ice.count", ...).
    pub label: Cow<'static, str>,
    /// How many values were possible (`0..n`).
    pub n: u32,
    /// The value taken; 0 is calm.
    pub value: u32,
}

/// What the program knows about a choice besides its range, for strategies that weigh values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hint {
    /// Any value in `0..n` is as likely.
    Uniform,
    /// A yes/no fault that the fault plan gives probability `p` (value 1 = the fault).
    Chance(f64),
}

/// Whom a choice concerns, for strategies that weigh actors (PCT's priorities per sender).
/// Strategies that ignore it decide exactly as they would without it.
#[derive(Clone, Copy)]
pub enum About<'a> {
    /// Nobody in particular.
    Nobody,
    /// A message from this sender (its delay).
    Sender(Id),
    /// A pick among candidates: value `i` takes the candidate sent by `sender_of(i)`.
    Candidates(&'a dyn Fn(u32) -> Id),
}

/// Decides the value of each choice. One strategy per file under `explore/strategy/`; the
/// engine ships the plain seeded one ([`RandomStrategy`]) and replay.
pub trait Strategy: Send + Sync {
    /// The value for a choice with `n >= 2` possible values; must be `< n`.
    fn decide(&mut self, label: &str, n: u32, hint: Hint) -> u32;

    /// The value for a choice that concerns `about`; by default `about` is ignored.
    fn decide_about(&mut self, label: &str, n: u32, hint: Hint, about: About<'_>) -> u32 {
        let _ = about;
        self.decide(label, n, hint)
    }

    /// The parameters this strategy drew for its run (rates, priorities), for failure files.
    fn params(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Uniform choices within the fault plan's rates, from a ChaCha8 stream seeded by the run's seed.
pub struct RandomStrategy {
    rng: ChaCha8Rng,
}

impl RandomStrategy {
    /// A strategy drawing from `ChaCha8Rng::seed_from_u64(seed)`.
    pub fn new(seed: u64) -> Self {
        RandomStrategy { rng: ChaCha8Rng::seed_from_u64(seed) }
    }
}

impl Strategy for RandomStrategy {
    fn decide(&mut self, _label: &str, n: u32, hint: Hint) -> u32 {
        match hint {
            Hint::Uniform => self.rng.random_range(0..n),
            Hint::Chance(p) => u32::from(self.rng.random_bool(p.clamp(0.0, 1.0))),
        }
    }
}

/// Where replay first disagreed with the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// Index of the choice on the tape.
    pub step: usize,
    /// What the tape holds there (`None`: the tape ended).
    pub expected: Option<Choice>,
    /// What the program asked for: label and range.
    pub asked: (String, u32),
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.expected {
            Some(c) => write!(
                f,
                "replay diverged at choice {}: the tape holds `{}` of {} (value {}), the run asked for `{}` of {}",
                self.step, c.label, c.n, c.value, self.asked.0, self.asked.1
            ),
            None => write!(
                f,
                "replay diverged at choice {}: the tape ended, the run asked for `{}` of {}",
                self.step, self.asked.0, self.asked.1
            ),
        }
    }
}

/// How replay treats a tape that does not match the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayMode {
    /// Stop at the first mismatch and report it (`racelab replay`).
    Strict,
    /// Take the calm value where the tape does not match or has ended (shrinking edits tapes).
    Lenient,
}

enum Source {
    Strategy(Box<dyn Strategy>),
    Replay { choices: Vec<Choice>, pos: usize, mode: ReplayMode },
}

/// The decision tape of one run (a field of [`crate::engine::Engine`]; a system reaches it
/// as `cx.tape` through [`crate::engine::SimCtx`]).
pub struct Tape {
    source: Source,
    record: bool,
    recorded: Vec<Choice>,
    count: usize,
    faults: usize,
    divergence: Option<Divergence>,
}

impl Default for Tape {
    fn default() -> Self {
        Tape::seeded(0)
    }
}

impl Tape {
    /// A tape drawing from [`RandomStrategy`] with `seed`.
    pub fn seeded(seed: u64) -> Self {
        Tape::with_strategy(Box::new(RandomStrategy::new(seed)))
    }

    /// A tape whose values come from `strategy`.
    pub fn with_strategy(strategy: Box<dyn Strategy>) -> Self {
        Tape {
            source: Source::Strategy(strategy),
            record: true,
            recorded: Vec::new(),
            count: 0,
            faults: 0,
            divergence: None,
        }
    }

    /// A tape replaying `choices`.
    pub fn replay(choices: Vec<Choice>, mode: ReplayMode) -> Self {
        Tape { source: Source::Replay { choices, pos: 0, mode }, ..Tape::seeded(0) }
    }

    /// Keep `previous`'s list of choices (emptied) for this tape's recording, so a run does
    /// not grow a fresh list from nothing.
    pub(crate) fn reuse_buffer(&mut self, previous: &mut Tape) {
        if self.recorded.capacity() < previous.recorded.capacity() {
            self.recorded = std::mem::take(&mut previous.recorded);
            self.recorded.clear();
        }
    }

    /// Whether this tape replays recorded choices (only a replay can diverge).
    pub fn is_replay(&self) -> bool {
        matches!(self.source, Source::Replay { .. })
    }

    /// Keep (or stop keeping) the list of choices. Counting is always on; the list costs a
    /// push per choice, which sweeps over millions of seeds can skip and re-run when needed.
    pub fn set_recording(&mut self, on: bool) {
        self.record = on;
    }

    /// The value of a choice among `n` values, all alike. `n <= 1` is no choice: it returns 0
    /// and records nothing, so tapes hold only real decisions.
    pub fn choose(&mut self, label: &'static str, n: u32) -> u32 {
        self.decide(label, n, Hint::Uniform, About::Nobody)
    }

    /// [`Tape::choose`] for a choice that concerns `about` (the same value for every
    /// strategy that does not weigh actors, and the same record).
    pub fn choose_about(&mut self, label: &'static str, n: u32, about: About<'_>) -> u32 {
        self.decide(label, n, Hint::Uniform, about)
    }

    /// A fault that happens with probability `p` under the random strategy. `p <= 0` is no
    /// choice (false, nothing recorded).
    pub fn chance(&mut self, label: &'static str, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        self.decide(label, 2, Hint::Chance(p), About::Nobody) == 1
    }

    /// A value in `lo..=hi`; `lo` is calm.
    pub fn range(&mut self, label: &'static str, lo: u64, hi: u64) -> u64 {
        self.range_about(label, lo, hi, About::Nobody)
    }

    /// [`Tape::range`] for a choice that concerns `about`.
    pub fn range_about(&mut self, label: &'static str, lo: u64, hi: u64, about: About<'_>) -> u64 {
        if hi <= lo {
            return lo;
        }
        let n = u32::try_from(hi - lo + 1).unwrap_or(u32::MAX);
        lo + u64::from(self.decide(label, n, Hint::Uniform, about))
    }

    /// The parameters the strategy drew for this run (`null` for replay and plain random).
    pub fn strategy_params(&self) -> serde_json::Value {
        match &self.source {
            Source::Strategy(s) => s.params(),
            Source::Replay { .. } => serde_json::Value::Null,
        }
    }

    fn decide(&mut self, label: &'static str, n: u32, hint: Hint, about: About<'_>) -> u32 {
        if n <= 1 {
            return 0;
        }
        let value = match &mut self.source {
            Source::Strategy(s) => s.decide_about(label, n, hint, about).min(n - 1),
            Source::Replay { choices, pos, mode } => {
                let at = *pos;
                let held = choices.get(at);
                let fits = held.is_some_and(|c| c.label == label && c.n == n && c.value < n);
                if fits {
                    *pos += 1;
                    held.map(|c| c.value).unwrap_or(0)
                } else if *mode == ReplayMode::Lenient {
                    // Skip a mismatching entry only when the label matches (its range moved);
                    // otherwise leave the tape where it is for a later matching question.
                    if held.is_some_and(|c| c.label == label) {
                        *pos += 1;
                    }
                    0
                } else {
                    if self.divergence.is_none() {
                        self.divergence =
                            Some(Divergence { step: at, expected: held.cloned(), asked: (label.to_owned(), n) });
                    }
                    0
                }
            }
        };
        self.count += 1;
        if value != 0 && matches!(hint, Hint::Chance(_)) {
            self.faults += 1;
        }
        if self.record {
            self.recorded.push(Choice { label: Cow::Borrowed(label), n, value });
        }
        value
    }

    /// The choices made so far (empty when recording is off).
    pub fn choices(&self) -> &[Choice] {
        &self.recorded
    }

    /// Take the recorded choices, leaving the list empty.
    pub fn take_choices(&mut self) -> Vec<Choice> {
        std::mem::take(&mut self.recorded)
    }

    /// How many choices were made.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no choice was made.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many yes/no faults came out as "yes".
    pub fn faults(&self) -> usize {
        self.faults
    }

    /// The first divergence of a strict replay.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// Choices a strict replay's tape still holds that the run never asked for (0 for
    /// strategies and lenient replay). A tape with junk appended must not pass as exact.
    pub fn leftover(&self) -> usize {
        match &self.source {
            Source::Replay { choices, pos, mode: ReplayMode::Strict } => choices.len().saturating_sub(*pos),
            _ => 0,
        }
    }
}

/// Count the non-calm values of a tape: how many things went differently from the calmest run.
pub fn non_calm(choices: &[Choice]) -> usize {
    choices.iter().filter(|c| c.value != 0).count()
}
