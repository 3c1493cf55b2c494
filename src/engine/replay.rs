//! Saved failures: everything needed to run a failing seed again, exactly.

use crate::engine::check::Verdict;
use crate::engine::tape::Choice;
use serde::{Deserialize, Serialize};

/// A failure as saved by `racelab run --save-failures` and sweeps, and read by `replay`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Path of the scenario file, as given when the failure was found.
    pub file: String,
    /// Scenario name.
    pub scenario: String,
    /// Variant.
    pub variant: String,
    /// Seed that found it.
    pub seed: u64,
    /// The strategy that chose the tape, and its parameters.
    #[serde(default = "default_strategy")]
    pub strategy: String,
    /// How the run ended.
    pub verdict: Verdict,
    /// Trace hash of the run.
    pub trace_hash: String,
    /// Every choice of the run.
    pub tape: Vec<Choice>,
}

fn default_strategy() -> String {
    "random".into()
}

impl Failure {
    /// Read a failure file.
    pub fn load(path: &std::path::Path) -> Result<Failure, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: not a racelab failure file: {e}", path.display(), e.line(), e.column()))
    }

    /// The failure as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
