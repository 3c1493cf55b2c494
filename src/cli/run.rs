//! `racelab run`: variants over seeds, expectations checked.

use super::{Format, load, print_run, seed_run, seeds_arg, strategy_arg};
use crate::engine::Registry;
use crate::engine::replay::Failure;
use crate::engine::{Outcome, Sim};
use crate::explore::run::{judge, run_variant_until};
use crate::explore::strategy::{Ran, Spec, StrategyKind};
use crate::report::shell::reproduce;
use crate::report::style::{self, Stream::Out, paint};
use crate::report::timeline;
use crate::report::{github, junit};
use crate::scenario::Expected;
use clap::Args;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// `racelab run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run only this variant (default: every variant the file lists).
    #[arg(long)]
    pub variant: Option<String>,
    /// Run one seed and print its timeline.
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// Run the seeds N (0..N) or A..B (default: the file's `seeds`).
    #[arg(long, value_parser = seeds_arg)]
    pub seeds: Option<Range<u64>>,
    /// How each run's choices are decided: random, swarm or pct draw a run from its seed;
    /// under bounded or exhaustive, seed N is the N-th run of the search (0: the calm run).
    /// The default is the same for every command, so a seed means one run everywhere.
    #[arg(long, value_parser = strategy_arg, default_value = StrategyKind::DEFAULT.name())]
    pub strategy: StrategyKind,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Save each variant's first failure (tape included) as a JSON file in DIR.
    #[arg(long, value_name = "DIR")]
    pub save_failures: Option<PathBuf>,
    /// Keep each failure of a variant expected to hold, shrunk, as a regression file in the
    /// `racelab-regressions/` folder beside its scenario. Every later `run` replays that folder
    /// first and fails while the fix still breaks on it. Failures of variants expected to fail
    /// are not kept (breaking is what those variants are for; a file would only pin their
    /// trace), and a variant whose kept regression still fails gets no second file.
    #[arg(long, conflicts_with = "check_determinism")]
    pub save_regressions: bool,
    /// Instead of judging expectations, check that every seed runs the same on a reused
    /// simulation as on a fresh one and that no run leaves state that nothing resets.
    #[arg(long, conflicts_with_all = ["seed", "save_failures"])]
    pub check_determinism: bool,
    /// Also write a JUnit XML report to FILE: a test case per variant, a failure where its
    /// expectation did not hold (for CI systems that show test results).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "check_determinism"])]
    pub junit: Option<PathBuf>,
}

/// Run the scenarios; the exit code (130 or 143 when Ctrl-C or SIGTERM stopped it: the
/// variant in progress is reported over the seeds that ran, and nothing after it runs).
pub fn run(registry: &Registry, args: RunArgs) -> i32 {
    super::install_ctrlc();
    let mut all_ok = true;
    let mut cases = Vec::new();
    let code = run_files(registry, &args, &mut all_ok, &mut cases);
    if let Some(path) = &args.junit
        && let Err(code) = super::write_junit(path, &cases)
    {
        return code;
    }
    if super::STOP.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("interrupted: the last variant above covers only the seeds that ran; the rest did not run");
        return super::interrupted_code();
    }
    match code {
        Some(code) => code,
        None if all_ok => 0,
        None => 1,
    }
}

/// Every file in turn; `Some(code)` when one cannot run at all.
fn run_files(registry: &Registry, args: &RunArgs, all_ok: &mut bool, cases: &mut Vec<junit::Case>) -> Option<i32> {
    for file in &args.files {
        let scenario = match load(registry, file) {
            Ok(s) => s,
            Err(code) => return Some(code),
        };
        let variants: Vec<String> = match &args.variant {
            Some(v) if scenario.variants.contains(v) => vec![v.clone()],
            Some(v) => {
                error!("{}: unknown variant `{v}`; expected one of: {}", file.display(), scenario.variants.join(", "));
                return Some(2);
            }
            None => scenario.variants.clone(),
        };
        // Saved regressions first: a fix is not done while one of them still breaks it.
        if args.seed.is_none()
            && !args.check_determinism
            && let Err(e) = crate::testing::check_regressions(file, &scenario, args.variant.as_deref())
        {
            println!("{}: {}: {e}", scenario.name, paint(Out, style::FAIL, "REGRESSION"));
            *all_ok = false;
        }
        if args.check_determinism {
            let seeds = args.seeds.clone().unwrap_or_else(|| scenario.seeds.clone());
            for v in &variants {
                match Sim::check_determinism(&scenario, v, seeds.clone()) {
                    Ok(n) => println!(
                        "{} / {v}: deterministic: {n} seeds run the same on a reused and a fresh simulation",
                        scenario.name
                    ),
                    Err(e) => {
                        println!("{} / {v}: {}: {e}", scenario.name, paint(Out, style::FAIL, "NOT DETERMINISTIC"));
                        *all_ok = false;
                    }
                }
            }
            continue;
        }
        let spec = Spec::new(args.strategy);
        if let Some(seed) = args.seed {
            for v in &variants {
                let (ran, outcome, sim) = match seed_run(&scenario, v, &spec, seed) {
                    Ok(x) => x,
                    Err(code) => return Some(code),
                };
                print_run(&sim, &outcome, args.format);
                if let Some(dir) = &args.save_failures
                    && !outcome.verdict.is_pass()
                {
                    save_failure(dir, file, &ran, spec.kind.name());
                }
                if args.save_regressions && !outcome.verdict.is_pass() {
                    super::keep_regression(
                        file,
                        &scenario,
                        &ran.failure(&file.display().to_string(), spec.kind.name()),
                    );
                }
            }
            continue;
        }
        let seeds = args.seeds.clone().unwrap_or_else(|| scenario.seeds.clone());
        // The file as given: what reports and printed commands name.
        let shown = file.display().to_string();
        if args.format == Format::Text {
            println!("{}  (model {}, seeds {}..{})", scenario.name, scenario.model, seeds.start, seeds.end);
            for line in wrap(&scenario.about, 92) {
                println!("  {line}");
            }
            println!();
        }
        // One column for the names, as wide as the longest (capped so one long name cannot
        // push every line off the screen).
        let w = variants.iter().map(|v| v.chars().count()).max().unwrap_or(0).clamp(15, 40);
        let mut unexpected: Option<(String, u64)> = None;
        let mut first_expected: Option<(String, u64)> = None;
        for v in &variants {
            let started = std::time::Instant::now();
            let report = match run_variant_until(&scenario, v, seeds.clone(), &spec, &super::STOP) {
                Ok(r) => r,
                Err(e) => {
                    super::scenario_error(&e);
                    return Some(2);
                }
            };
            let verdict = judge(&scenario, &report);
            let failure = verdict.as_ref().err().map(|why| {
                let see = report.first_failure.as_ref().map(|f| reproduce(&shown, v, f.seed, spec.kind.name()));
                junit::failure_message(&scenario.name, v, why, see)
            });
            if args.save_regressions
                && verdict.is_err()
                && matches!(scenario.expectation(v).map(|e| &e.expected), Some(Expected::Holds))
                && let Some(f) = &report.first_failure
            {
                // The report kept only the outcome: the run again, its tape kept this time.
                let mut sim = match super::build(&scenario, v) {
                    Ok(s) => s,
                    Err(code) => return Some(code),
                };
                if let Some(ran) = spec.run_seed(&mut sim, f.seed) {
                    super::keep_regression(file, &scenario, &ran.failure(&shown, spec.kind.name()));
                }
            }
            if let Some(msg) = &failure {
                *all_ok = false;
                if github::enabled() {
                    // On the expectation's line, or the file's first when none speaks of it.
                    let line =
                        scenario.expectation(v).map_or(1, |e| github::line_of(&scenario.source.text, e.span.start));
                    println!("{}", github::error(&shown, line, 0, "racelab: expectation not met", msg));
                }
            }
            cases.push(junit::Case {
                scenario: scenario.name.clone(),
                file: shown.clone(),
                variant: v.clone(),
                runs: report.runs,
                failure,
                skipped: None,
                seconds: started.elapsed().as_secs_f64(),
            });
            let hash = report.first_failure.as_ref().map_or(report.first_hash.clone(), |f| f.trace_hash.clone());
            match args.format {
                Format::Text => {
                    // Padded before it is painted: the escapes take no column.
                    let result = if report.failures.is_empty() {
                        paint(Out, style::PASS, &format!("{:<14}", format!("pass {}/{}", report.runs, report.runs)))
                    } else {
                        paint(Out, style::FAIL, &format!("{:<14}", format!("FAIL {}/{}", report.failed(), report.runs)))
                    };
                    let first = report.first_failure.as_ref().map_or("-".to_owned(), |f| format!("seed {}", f.seed));
                    let expect = match (&verdict, scenario.expectation(v).map(|e| &e.expected)) {
                        (Ok(()), Some(Expected::Holds)) => paint(Out, style::EXPECTED, "as expected") + ": holds",
                        (Ok(()), Some(Expected::Violates(_) | Expected::Includes(_))) => {
                            paint(Out, style::EXPECTED, "as expected") + ": violates"
                        }
                        (Err(why), _) => format!("{}: {why}", paint(Out, style::UNEXPECTED, "UNEXPECTED")),
                        (Ok(()), None) => String::new(),
                    };
                    let name = crate::report::term::clean(v);
                    println!(
                        "  {name:<w$} {result} first {first:<10} trace {hash}  {:>6.0} runs/s  {expect}",
                        report.runs_per_sec
                    );
                    if !report.failures.is_empty() {
                        let parts: Vec<String> =
                            report.failures.iter().map(|(k, (n, s))| format!("{k} {n} (seed {s})")).collect();
                        println!("  {:<w$} {}", "", parts.join(", "));
                    }
                    if let Some(f) = &report.first_failure {
                        println!("  {:<w$} {}", "", reproduce(&shown, v, f.seed, spec.kind.name()));
                    }
                }
                Format::Jsonl => {
                    // Byte-stable: nothing measured by the clock (runs/s is on the text output).
                    let line = serde_json::json!({
                        "scenario": scenario.name, "variant": v, "runs": report.runs,
                        "failures": report.failures.iter().map(|(k, (n, s))| (k.clone(), serde_json::json!({"seeds": n, "first_seed": s}))).collect::<serde_json::Map<_, _>>(),
                        "trace_hash": hash, "strategy": spec.kind.name(),
                        "expectation_met": verdict.is_ok(),
                    });
                    println!("{line}");
                }
            }
            if let Some(f) = &report.first_failure {
                if verdict.is_err() && unexpected.is_none() {
                    unexpected = Some((v.clone(), f.seed));
                }
                // Point at the race the file names first, not just any failure.
                if verdict.is_ok()
                    && first_expected.is_none()
                    && let Some(Expected::Violates(names) | Expected::Includes(names)) =
                        scenario.expectation(v).map(|e| &e.expected)
                {
                    let seed = names.iter().find_map(|n| report.failures.get(n)).map_or(f.seed, |(_, s)| *s);
                    first_expected = Some((v.clone(), seed));
                }
                if let Some(dir) = &args.save_failures
                    && let Ok((ran, _, _)) = seed_run(&scenario, v, &spec, f.seed)
                {
                    save_failure(dir, file, &ran, spec.kind.name());
                }
            }
            if super::STOP.load(std::sync::atomic::Ordering::Relaxed) {
                // Interrupted: this variant's line covers the seeds that ran; nothing more runs.
                return None;
            }
        }
        if let Some((v, seed)) = unexpected {
            if args.format == Format::Text
                && let Ok((_, outcome, sim)) = seed_run(&scenario, &v, &spec, seed)
            {
                println!("\nfirst unexpected failure: {}", reproduce(&shown, &v, seed, spec.kind.name()));
                print!("{}", timeline::render(sim.trace(), sim.names(), &outcome));
            }
        } else if args.format == Format::Text
            && let Some((v, seed)) = first_expected
        {
            println!("\n  see the race: {}", reproduce(&shown, &v, seed, spec.kind.name()));
        }
    }
    None
}

/// Save a failure file for `replay`: run `ran` (its choices kept) of `strategy`.
pub fn save_failure(dir: &Path, file: &Path, ran: &Ran, strategy: &str) {
    let failure: Failure = ran.failure(&file.display().to_string(), strategy);
    let outcome: &Outcome = &ran.outcome;
    // Names come from the scenario file: sanitised so `name = "../../x"` stays inside `dir`.
    let name = if strategy == StrategyKind::DEFAULT.name() {
        format!("{}.{}.seed{}", outcome.scenario, outcome.variant, outcome.seed)
    } else {
        format!("{}.{}.{strategy}.seed{}", outcome.scenario, outcome.variant, outcome.seed)
    };
    let path = match crate::report::filename::file_in(dir, &name, "json") {
        Ok(p) => p,
        Err(e) => {
            error!("{e}");
            return;
        }
    };
    let written = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, failure.to_json()));
    match written {
        Ok(()) => eprintln!("saved {}", path.display()),
        Err(e) => error!("cannot write {}: {e}", path.display()),
    }
}

/// Split `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
