//! `racelab explain`: one failing run drawn for people: a text timeline, a Mermaid sequence
//! diagram or a self-contained HTML report.

use super::{failure_at, failure_scenario, full_replay, load, seed_run, strategy_arg};
use crate::engine::Registry;
use crate::explore::strategy::{Spec, StrategyKind};
use crate::report::shell::{quote, replay, reproduce};
use crate::report::view::View;
use crate::report::{html, mermaid, timeline};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What `explain` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Aligned timeline, faults and the violation marked.
    Text,
    /// Mermaid sequence diagram, for Markdown.
    Mermaid,
    /// One self-contained HTML file: lanes, arrows, the violation highlighted.
    Html,
}

/// `racelab explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A failure file (`run --save-failures`), replayed strictly from its tape, or a scenario
    /// file (`.toml`) run with `--variant` and `--seed`.
    pub input: PathBuf,
    /// The variant to run (scenario files only).
    #[arg(long)]
    pub variant: Option<String>,
    /// The seed to run (scenario files only).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The strategy the seed is run under (scenario files only; the same default as every
    /// command, so `--seed N` is the run `racelab run --seed N` shows).
    #[arg(long, value_parser = strategy_arg)]
    pub strategy: Option<StrategyKind>,
    /// What to draw.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Keep only the events touching these ids (repeat or separate with commas); the
    /// violation and the state changes of the ids it names are always kept.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub focus: Vec<String>,
    /// Show every event of the text timeline (do not fold long stretches of wire traffic).
    #[arg(long)]
    pub no_fold: bool,
    /// Which failure of a JSON Lines file such as a sweep's (1 = the first line).
    #[arg(long, default_value_t = 1)]
    pub line: usize,
    /// The scenario file to replay a failure against, instead of the one it names.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
}

/// Explain; the exit code (1 if a failure file no longer replays to its saved verdict and hash).
pub fn explain(registry: &Registry, args: ExplainArgs) -> i32 {
    match explain_inner(registry, &args) {
        Ok(code) => code,
        Err((code, msg)) => {
            // An empty message: the helper that failed has printed its own.
            if !msg.is_empty() {
                error!("{msg}");
            }
            code
        }
    }
}

fn explain_inner(registry: &Registry, args: &ExplainArgs) -> Result<i32, (i32, String)> {
    let is_scenario = args.input.extension().is_some_and(|x| x == "toml");
    let kind = args.strategy.unwrap_or(StrategyKind::DEFAULT);
    let (scenario_file, variant, tape, seed, failure) = if is_scenario {
        let scenario = load(registry, &args.input).map_err(|c| (c, String::new()))?;
        let Some(variant) = args.variant.clone() else {
            return Err((2, format!("a scenario file needs --variant (one of: {})", scenario.variants.join(", "))));
        };
        let Some(seed) = args.seed else {
            return Err((2, "a scenario file needs --seed N".to_owned()));
        };
        (args.input.clone(), variant, None, seed, None)
    } else {
        if args.variant.is_some() || args.seed.is_some() || args.strategy.is_some() {
            return Err((
                2,
                "--variant and --seed are for scenario files, as is --strategy; a failure file names its own"
                    .to_owned(),
            ));
        }
        let f = failure_at(&args.input, args.line).map_err(|c| (c, String::new()))?;
        (PathBuf::from(&f.file), f.variant.clone(), Some(f.tape.clone()), f.seed, Some(f))
    };
    let (scenario_file, scenario) = match &failure {
        Some(f) => {
            failure_scenario(registry, &args.input, f, args.scenario.as_deref()).map_err(|c| (c, String::new()))?
        }
        None => (scenario_file.clone(), load(registry, &scenario_file).map_err(|c| (c, String::new()))?),
    };
    if !scenario.variants.contains(&variant) {
        return Err((
            2,
            format!(
                "{}: unknown variant `{variant}`; expected one of: {}",
                scenario_file.display(),
                scenario.variants.join(", ")
            ),
        ));
    }
    let (outcome, sim) = match tape {
        Some(tape) => full_replay(&scenario, &variant, tape, seed).map_err(|c| (c, String::new()))?,
        None => {
            let (_, outcome, sim) =
                seed_run(&scenario, &variant, &Spec::new(kind), seed).map_err(|c| (c, String::new()))?;
            (outcome, sim)
        }
    };

    let mut view = View::new(sim.trace().events(), sim.names(), &outcome);
    let mut code = 0;
    view = match &failure {
        None => view.reproduce(reproduce(&scenario_file.display().to_string(), &variant, seed, kind.name())),
        Some(f) => {
            let mut cmd = replay(&args.input);
            if args.line != 1 {
                cmd.push_str(&format!(" --line {}", args.line));
            }
            if let Some(given) = &args.scenario {
                cmd.push_str(&format!(" --scenario {}", quote(&given.display().to_string())));
            }
            let mut v = view.reproduce(cmd);
            v = v.remark(format!(
                "replayed from the tape of {} (found by strategy {})",
                args.input.display(),
                f.strategy
            ));
            if outcome.verdict != f.verdict || outcome.trace_hash != f.trace_hash {
                let msg = format!(
                    "replay differs from the saved failure: saved {} (trace {}), replayed {} (trace {})",
                    f.verdict.summary(),
                    f.trace_hash,
                    outcome.verdict.summary(),
                    outcome.trace_hash
                );
                eprintln!("{msg}");
                code = 1;
                v = v.remark(msg);
            }
            v
        }
    };
    if !args.focus.is_empty() {
        let ids = view.resolve(&args.focus).map_err(|e| (2, e))?;
        view = view.focus(ids);
    }
    let rendered = match args.format {
        ExplainFormat::Text => timeline::render_view(&view, !args.no_fold),
        ExplainFormat::Mermaid => mermaid::render(&view),
        ExplainFormat::Html => html::render(&view),
    };
    match &args.out {
        None => print!("{rendered}"),
        Some(path) => {
            std::fs::write(path, rendered).map_err(|e| (2, format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(code)
}
