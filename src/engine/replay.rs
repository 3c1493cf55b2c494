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
    /// The parameters the strategy drew for this run (swarm's rates, PCT's change points).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// How the run ended.
    pub verdict: Verdict,
    /// The invariants and monitors the run broke after the verdict's, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// Trace hash of the run.
    pub trace_hash: String,
    /// Every choice of the run.
    pub tape: Vec<Choice>,
    /// Set when the tape was shrunk: what it was shrunk from (then `seed` and `strategy`
    /// name the original run, and the tape alone reproduces this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<Shrunk>,
}

/// What shrinking did to a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shrunk {
    /// Trace hash of the original run.
    pub from_trace_hash: String,
    /// Non-calm choices before and after.
    pub faults: (usize, usize),
    /// Choices on the tape before and after.
    pub choices: (usize, usize),
    /// Trace events before and after.
    pub events: (usize, usize),
    /// Runs the shrinker made.
    pub runs: u64,
}

fn default_strategy() -> String {
    "random".into()
}

impl Failure {
    /// The breaks of `outcome` after its first, for [`Failure::also`].
    pub fn also_of(outcome: &crate::engine::Outcome) -> Vec<String> {
        outcome.checks().iter().skip(1).map(|c| (*c).to_owned()).collect()
    }

    /// Every check the run failed: the verdict's, then the later ones.
    pub fn checks(&self) -> Vec<&str> {
        self.verdict.failed_check().into_iter().chain(self.also.iter().map(String::as_str)).collect()
    }

    /// Read a failure file.
    pub fn load(path: &std::path::Path) -> Result<Failure, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: not a racelab failure file: {e}", path.display(), e.line(), e.column()))
    }

    /// Read a failure file, or every line of a JSON Lines file of failures (as sweeps write
    /// them; blank lines are skipped). Errors name the file and line.
    pub fn load_all(path: &std::path::Path) -> Result<Vec<Failure>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let whole = match serde_json::from_str::<Failure>(&text) {
            Ok(one) => return Ok(vec![one]),
            Err(e) => e,
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(f) => out.push(f),
                // Not JSON Lines at all: say what is wrong with it as one document.
                Err(_) if out.is_empty() => {
                    return Err(format!(
                        "{}:{}:{}: not a racelab failure file: {whole}",
                        path.display(),
                        whole.line(),
                        whole.column()
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "{}:{}:{}: not a racelab failure line: {e}",
                        path.display(),
                        i + 1,
                        e.column()
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The failure as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The failure as one JSON line (no newline), as sweeps write it.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
