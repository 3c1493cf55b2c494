//! Verification: for every variant, the strongest statement a bounded search can make within
//! a budget. A variant expected to hold gets a certificate ("no violation of any invariant
//! within k deviations", exhaustive at that bound); a variant expected to fail gets its
//! failure with the fewest deviations. All variants are searched at once on the worker pool.
//!
//! A time budget only stops the searches early: the failure a search reports is the first in
//! its own order, the same one a run budget alone would report; only how deep a certificate
//! reaches depends on the machine.

use crate::engine::replay::Failure;
use crate::explore::pool::{self, Options, Progress, Target};
use crate::explore::strategy::bounded::{self, Bounded, Conclusion};
use crate::explore::strategy::{Ran, Strategy};
use crate::report::shell::reproduce;
use crate::scenario::{Expected, ScenarioError};
use std::fmt::Write as _;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// How hard to try.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// Runs per variant at most.
    pub budget: u64,
    /// The deepest level searched.
    pub max_deviations: u32,
    /// Worker threads.
    pub jobs: usize,
    /// Stop every search at this instant.
    pub deadline: Option<Instant>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        let b = bounded::Bounds::default();
        VerifyConfig { budget: b.budget, max_deviations: b.max_deviations, jobs: 1, deadline: None }
    }
}

/// What verification says of one variant.
#[derive(Clone, Debug)]
pub struct Row {
    /// The pair.
    pub target: Target,
    /// What the scenario file expects (`None`: no `[[expect]]`).
    pub expected: Option<Expected>,
    /// What the search concluded.
    pub conclusion: Conclusion,
    /// The conclusion as a line for people.
    pub summary: String,
    /// Runs made.
    pub runs: u64,
    /// The failure with the fewest deviations, if one was found.
    pub failure: Option<Failure>,
    /// Whether the conclusion agrees with the expectation; `Err` says how not. A failure
    /// agrees with `violates = [...]` when the first thing it breaks is listed.
    pub agrees: Result<(), String>,
}

impl Row {
    /// What the failure breaks after its first break that the file's `violates` list does
    /// not name (the file speaks of its seeds; the bounded search's runs are others).
    pub fn unlisted(&self) -> Vec<String> {
        match (&self.expected, &self.failure) {
            (Some(Expected::Violates(names)), Some(f)) => {
                f.checks().into_iter().filter(|c| !names.iter().any(|n| n == c)).map(str::to_owned).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl Row {
    /// The command that reproduces the failure, if there is one.
    pub fn reproduce(&self) -> Option<String> {
        let f = self.failure.as_ref()?;
        Some(reproduce(&self.target.file, &self.target.variant, f.seed, "bounded"))
    }
}

struct Firsts {
    files: Vec<String>,
    found: Vec<Option<Failure>>,
}

impl pool::Sink for Firsts {
    fn ran(&mut self, target: usize, ran: &Ran, _: &Progress) -> bool {
        if ran.failed() && self.found[target].is_none() {
            self.found[target] = Some(ran.failure(&self.files[target], "bounded"));
        }
        true
    }
}

/// Search every target with a bounded search within `cfg`, and judge each against its file's
/// expectation. Raising `stop` ends every search early (what was found is still reported).
pub fn verify(targets: &[Target], cfg: &VerifyConfig, stop: &AtomicBool) -> Result<Vec<Row>, ScenarioError> {
    let bounds = bounded::Bounds { max_deviations: cfg.max_deviations, budget: cfg.budget, stop_at_failure: true };
    let mut searches: Vec<Bounded> = targets.iter().map(|_| Bounded::new(bounds)).collect();
    let mut firsts =
        Firsts { files: targets.iter().map(|t| t.file.clone()).collect(), found: vec![None; targets.len()] };
    {
        let mut strategies: Vec<Box<dyn Strategy + '_>> =
            searches.iter_mut().map(|s| Box::new(s) as Box<dyn Strategy + '_>).collect();
        let opts = Options { jobs: cfg.jobs, chunk: 16, stop, deadline: cfg.deadline, first_only: false };
        pool::drive(targets, &mut strategies, &opts, &mut firsts)?;
    }
    Ok(targets
        .iter()
        .zip(searches)
        .zip(firsts.found)
        .map(|((target, search), failure)| {
            let expected = target.scenario.expectation(&target.variant).map(|e| e.expected.clone());
            let conclusion = search.conclusion_kind();
            let agrees = judge(expected.as_ref(), &conclusion, failure.as_ref(), &search);
            Row {
                target: target.clone(),
                expected,
                summary: search.summary(),
                conclusion,
                runs: search.runs(),
                failure,
                agrees,
            }
        })
        .collect())
}

fn judge(
    expected: Option<&Expected>,
    conclusion: &Conclusion,
    failure: Option<&Failure>,
    search: &Bounded,
) -> Result<(), String> {
    if let Some(why) = search.nondeterministic() {
        return Err(why.to_owned());
    }
    let Some(expected) = expected else { return Err("no [[expect]] for this variant".into()) };
    match (expected, failure) {
        (Expected::Holds, None) => Ok(()),
        (Expected::Holds, Some(f)) => Err(format!("expected to hold, but {}", f.verdict.summary())),
        (Expected::Violates(names), Some(f)) => match f.verdict.failed_check() {
            Some(first) if names.iter().any(|n| n == first) => Ok(()),
            first => Err(format!(
                "expected {} to fail, but the run breaks {} first",
                names.join(", "),
                first.unwrap_or("nothing")
            )),
        },
        (Expected::Includes(_), Some(_)) => Ok(()),
        (Expected::Violates(_) | Expected::Includes(_), None) => Err(match conclusion {
            Conclusion::Certified { bound, .. } => {
                format!(
                    "expected to fail, but no run within {bound} deviations fails (raise --budget or --max-deviations)"
                )
            }
            _ => "expected to fail, but the budget ended the search first".to_owned(),
        }),
    }
}

/// The expectation in a word or two.
pub fn expected_text(e: Option<&Expected>) -> String {
    match e {
        None => "-".into(),
        Some(Expected::Holds) => "holds".into(),
        Some(Expected::Violates(n)) => format!("violates {}", n.join(", ")),
        Some(Expected::Includes(n)) => format!("includes {}", n.join(", ")),
    }
}

/// The result column: what failed with how many deviations, or the bound certified.
pub fn result_text(row: &Row) -> String {
    let devs = |k: u32| if k == 1 { "1 deviation".to_owned() } else { format!("{k} deviations") };
    match (&row.conclusion, &row.failure) {
        (Conclusion::Fails { deviations: 0, .. }, Some(f)) => format!("the calm run fails: {}", f.checks().join(", ")),
        (Conclusion::Fails { deviations, .. }, Some(f)) => {
            format!("fails with {}: {}", devs(*deviations), f.checks().join(", "))
        }
        (Conclusion::Certified { bound, everything: true }, _) => {
            format!("every run passes (no run has more than {})", devs(*bound))
        }
        (Conclusion::Certified { bound, .. }, _) => format!("no violation within {}", devs(*bound)),
        _ => "nothing certified".into(),
    }
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| scenario | variant | expected | bounded search | runs | agrees |\n|---|---|---|---|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.target.scenario.name,
            r.target.variant,
            expected_text(r.expected.as_ref()),
            result_text(r),
            r.runs,
            if r.agrees.is_ok() { "yes" } else { "**no**" }
        );
    }
    s
}
