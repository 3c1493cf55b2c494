//! `racelab verify`: a bounded search of every variant, judged against its expectation: a
//! certificate for each fix that holds, the fewest deviations for each variant that fails.

use super::sweep::{deadline, default_jobs, load_targets};
use super::{STOP, install_ctrlc};
use crate::engine::Registry;
use crate::explore::strategy::bounded::Conclusion;
use crate::explore::verify::{VerifyConfig, expected_text, markdown, verify};
use crate::report::junit;
use crate::report::style::{self, Stream::Out, paint};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// Output format of `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// One line per variant, with the command that reproduces each failure.
    Text,
    /// A Markdown table.
    Markdown,
}

/// `racelab verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Verify only this variant (files without it are skipped).
    #[arg(long)]
    pub variant: Option<String>,
    /// The most runs per variant.
    #[arg(long, value_name = "RUNS", default_value_t = VerifyConfig::default().budget)]
    pub budget: u64,
    /// The most deviations from the calm run searched.
    #[arg(long, value_name = "K", default_value_t = VerifyConfig::default().max_deviations)]
    pub max_deviations: u32,
    /// Stop every search after this many seconds (certificates then reach less deep; a
    /// failure reported is the one the run budget alone would report).
    #[arg(long, value_name = "SECS")]
    pub time: Option<f64>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Also write a JUnit XML report to FILE: a test case per variant, a failure where the
    /// search disagrees with the file's expectation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Verify; the exit code (0: every expectation agrees, 1: some does not, 2: bad input,
/// 130: interrupted).
pub fn run(registry: &Registry, args: VerifyArgs) -> i32 {
    let targets = match load_targets(registry, &args.files, args.variant.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let deadline = match deadline(args.time) {
        Ok(d) => d,
        Err(e) => {
            error!("{e}");
            return 2;
        }
    };
    let cfg = VerifyConfig {
        budget: args.budget,
        max_deviations: args.max_deviations,
        jobs: args.jobs.unwrap_or_else(default_jobs).max(1),
        deadline,
    };
    install_ctrlc();
    let rows = match verify(&targets, &cfg, &STOP) {
        Ok(r) => r,
        Err(e) => {
            super::scenario_error(&e);
            return 2;
        }
    };
    match args.format {
        VerifyFormat::Markdown => print!("{}", markdown(&rows)),
        VerifyFormat::Text => {
            let width =
                rows.iter().map(|r| r.target.variant.len()).max().unwrap_or(0).min(crate::report::NAME_COLUMN_MAX);
            let mut file = String::new();
            for r in &rows {
                if r.target.file != file {
                    file.clone_from(&r.target.file);
                    println!("{file}");
                }
                let mark = if r.agrees.is_ok() { paint(Out, style::PASS, "ok") } else { paint(Out, style::FAIL, "NO") };
                println!("  {mark}  {:<width$}  {}", crate::report::term::clean(&r.target.variant), r.summary);
                let pad = "";
                if let Some(f) = &r.failure {
                    println!(
                        "      {pad:<width$}  breaks {}; run it: {}",
                        f.checks().join(", "),
                        r.reproduce().unwrap_or_default()
                    );
                }
                match &r.agrees {
                    Ok(()) => println!(
                        "      {pad:<width$}  {}: {}",
                        paint(Out, style::EXPECTED, "as expected"),
                        expected_text(r.expected.as_ref())
                    ),
                    Err(why) => println!("      {pad:<width$}  {}: {why}", paint(Out, style::UNEXPECTED, "UNEXPECTED")),
                }
                let unlisted = r.unlisted();
                if !unlisted.is_empty() {
                    println!(
                        "      {pad:<width$}  note: this run also breaks {}, which no seed of the file breaks",
                        unlisted.join(", ")
                    );
                }
            }
            let agree = rows.iter().filter(|r| r.agrees.is_ok()).count();
            let certified = rows.iter().filter(|r| matches!(r.conclusion, Conclusion::Certified { .. })).count();
            let failing = rows.iter().filter(|r| r.failure.is_some()).count();
            println!(
                "verified {} variants (at most {} runs and {} deviations each): {failing} fail, {certified} certified; {agree} agree with their expectations, {} do not",
                rows.len(),
                cfg.budget,
                cfg.max_deviations,
                rows.len() - agree
            );
        }
    }
    if let Some(path) = &args.junit {
        let cases: Vec<junit::Case> =
            rows.iter()
                .map(|r| junit::Case {
                    scenario: r.target.scenario.name.clone(),
                    file: r.target.file.clone(),
                    variant: r.target.variant.clone(),
                    runs: r.runs,
                    failure: r.agrees.as_ref().err().map(|why| {
                        junit::failure_message(&r.target.scenario.name, &r.target.variant, why, r.reproduce())
                    }),
                    skipped: None,
                    // The searches share the workers: no per-variant wall clock to report.
                    seconds: 0.0,
                })
                .collect();
        if let Err(code) = super::write_junit(path, &cases) {
            return code;
        }
    }
    if STOP.load(Ordering::Relaxed) {
        eprintln!("interrupted: the searches stopped early");
        return super::interrupted_code();
    }
    if rows.iter().all(|r| r.agrees.is_ok()) { 0 } else { 1 }
}
