//! `replay`: one recorded tape, fed back strictly (`racelab replay`, `explain FAILURE.json`).
//!
//! If the run asks for a different label or range than the tape holds, the engine stops it
//! with [`crate::engine::Verdict::Diverged`] at the first divergent choice.

use super::{Execution, Flow, Next, Ran, Strategy};
use crate::engine::Tape;
use crate::engine::tape::{Choice, ReplayMode};

/// Replays one tape once.
pub struct Replay {
    tape: Option<Vec<Choice>>,
    seed: u64,
    mode: ReplayMode,
}

impl Replay {
    /// Replay `tape` strictly; `seed` names the run (the seed it was recorded with).
    pub fn new(tape: Vec<Choice>, seed: u64) -> Replay {
        Replay { tape: Some(tape), seed, mode: ReplayMode::Strict }
    }

    /// The same, taking the calm value wherever the tape does not fit the run.
    pub fn lenient(mut self) -> Replay {
        self.mode = ReplayMode::Lenient;
        self
    }
}

impl Strategy for Replay {
    fn name(&self) -> &'static str {
        "replay"
    }

    fn new_execution(&mut self) -> Next {
        match self.tape.take() {
            Some(tape) => Next::Run(Execution::new(self.seed, Tape::replay(tape, self.mode)).recorded()),
            None => Next::Done,
        }
    }

    fn observe(&mut self, _: &Ran) -> Flow {
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(1)
    }
}
