//! `racelab matrix`: variants against invariants, per scenario.

use super::sweep::{default_jobs, load_targets};
use super::{STOP, install_ctrlc, strategy_arg};
use crate::engine::Registry;
use crate::explore::matrix::{Matrix, markdown, matrix};
use crate::explore::strategy::StrategyKind;
use crate::report::junit;
use crate::report::shell::reproduce;
use crate::scenario::Scenario;
use clap::{Args, ValueEnum};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Output format of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// One Markdown table per scenario.
    Markdown,
    /// One JSON document.
    Json,
}

/// `racelab matrix`.
#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Seeds per variant: N (seeds 0..N) or A..B.
    #[arg(long, value_parser = super::seeds_arg, default_value = "1000")]
    pub seeds: Range<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Markdown)]
    pub format: MatrixFormat,
    /// How each run's choices are decided (the same default as every command; under
    /// bounded or exhaustive, the runs numbered 0..N of the search).
    #[arg(long, value_parser = strategy_arg, default_value = StrategyKind::DEFAULT.name())]
    pub strategy: StrategyKind,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Also write a JUnit XML report to FILE: a test case per scenario and variant, a
    /// failure where its seeds break the file's expectation (judged as `run` judges). The
    /// exit code stays 0: the matrix measures; the report says which expectations broke.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Print the matrix; the exit code.
pub fn run(registry: &Registry, args: MatrixArgs) -> i32 {
    let targets = match load_targets(registry, &args.files, None) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if !args.strategy.is_seeded() && args.seeds.start > 0 {
        error!("--strategy {} numbers its runs from 0: give --seeds N, not a range", args.strategy);
        return 2;
    }
    install_ctrlc();
    let jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    let scenarios: Vec<(String, Arc<Scenario>)> =
        targets.iter().map(|t| (t.file.clone(), Arc::clone(&t.scenario))).collect();
    let (matrices, _) = match matrix(targets, args.seeds.clone(), args.strategy, jobs, &STOP) {
        Ok(m) => m,
        Err(e) => {
            super::sweep_error(&e);
            return 2;
        }
    };
    if STOP.load(Ordering::Relaxed) {
        eprintln!("interrupted: the matrix below covers only the seeds that ran");
    }
    match args.format {
        MatrixFormat::Markdown => print!("{}", markdown(&matrices)),
        MatrixFormat::Json => println!("{}", serde_json::to_string_pretty(&matrices).unwrap_or_default()),
    }
    if let Some(path) = &args.junit
        && let Err(code) = super::write_junit(path, &junit_cases(&matrices, &scenarios, args.strategy))
    {
        return code;
    }
    if STOP.load(Ordering::Relaxed) { super::interrupted_code() } else { 0 }
}

/// A JUnit case per row of every matrix: its cells judged against the scenario's expectation.
fn junit_cases(matrices: &[Matrix], scenarios: &[(String, Arc<Scenario>)], strategy: StrategyKind) -> Vec<junit::Case> {
    let mut cases = Vec::new();
    for m in matrices {
        let Some((_, scenario)) = scenarios.iter().find(|(f, s)| *f == m.file && s.name == m.scenario) else {
            continue;
        };
        for r in &m.rows {
            let failures =
                r.cells.iter().map(|(k, c)| (k.clone(), (c.failing, c.first.unwrap_or(m.seeds.start)))).collect();
            let verdict = super::judge_counts(scenario, &r.variant, r.runs, r.any.failing, failures, false);
            let failure = verdict.err().map(|why| {
                let see = r.any.first.map(|seed| reproduce(&m.file, &r.variant, seed, strategy.name()));
                junit::failure_message(&m.scenario, &r.variant, &why, see)
            });
            cases.push(junit::Case {
                scenario: m.scenario.clone(),
                file: m.file.clone(),
                variant: r.variant.clone(),
                runs: r.runs,
                failure,
                skipped: None,
                // The rows share the workers: no per-variant wall clock to report.
                seconds: 0.0,
            });
        }
    }
    cases
}
