//! Exploration, measured: how many seeds each seeded strategy needs to hit the known races and
//! how many runs the bounded search needs (with how many deviations), what bound the bounded
//! search certifies for each fix, how sweep throughput scales from one worker to two, and what
//! shrinking does to each failure.
//!
//! `cargo bench --bench explore` prints Markdown tables (also written to
//! `target/explore-bench.md`, and to `docs/explore-bench.md` when every table is computed),
//! then times a sweep on one and on two workers with criterion. Every (scenario, variant)
//! of every model is measured. Seeds and runs to failure are counts, not times: they do not
//! depend on the machine.
//!
//! Set `RACELAB_BENCH_RANGES` (default 21), `RACELAB_BENCH_CAP` (default 1000 seeds),
//! `RACELAB_BENCH_BUDGET` (default 100000 runs of a bounded search) and
//! `RACELAB_BENCH_TABLES` (default `strategies,certificates,throughput,shrink`).

use criterion::{Criterion, Throughput};
use racelab::engine::Registry;
use racelab::engine::replay::Failure;
use racelab::engine::tape::non_calm;
use racelab::engine::{Sim, TraceLevel};
use racelab::explore::pool::{self, drive_one};
use racelab::explore::shrink::{ShrinkConfig, shrink};
use racelab::explore::strategy::bounded::{self, Bounded, Conclusion};
use racelab::explore::strategy::{Seeds, Spec, StrategyKind};
use racelab::explore::sweep::{Collect, SweepConfig, Target, sweep, targets};
use racelab::scenario::{Expected, Scenario};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "toml"));
    files.sort();
    files
}

/// Every shipped (scenario, variant), with what its file expects.
fn pairs() -> Vec<(Target, Expected)> {
    let mut out = Vec::new();
    for file in scenario_files() {
        let Ok(scenario) = Scenario::load(&Registry::builtin(), &file) else { continue };
        let rel = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&file).display().to_string();
        let rel = rel.trim_start_matches('/').to_owned();
        for t in targets(&rel, scenario.clone(), None).unwrap_or_default() {
            if let Some(e) = scenario.expectation(&t.variant) {
                out.push((t, e.expected.clone()));
            }
        }
    }
    out
}

/// Seeds of `kind` from `start` until the first failing run (counting that run), or `None`
/// past `cap`.
fn seeds_to_failure(sim: &mut Sim, kind: StrategyKind, start: u64, cap: u64) -> Option<u64> {
    let mut strategy = Spec::new(kind).over(Seeds::range(start..start + cap));
    let mut found = None;
    drive_one(sim, strategy.as_mut(), |ran| {
        if ran.failed() {
            found = Some(ran.seed - start + 1);
        }
        found.is_none()
    });
    found
}

/// A bounded search within `budget` runs.
fn bounded_search(sim: &mut Sim, budget: u64) -> Bounded {
    let mut search = Bounded::new(bounded::Bounds { budget, ..bounded::Bounds::default() });
    drive_one(sim, &mut search, |_| true);
    search
}

fn median(mut v: Vec<Option<u64>>) -> Option<u64> {
    v.sort_by_key(|x| x.unwrap_or(u64::MAX));
    v[(v.len() - 1) / 2]
}

fn show(m: Option<u64>, cap: u64) -> String {
    m.map_or(format!(">{cap}"), |m| m.to_string())
}

struct FailingRow {
    medians: Vec<Option<u64>>,
    runs: u64,
    conclusion: Conclusion,
    check: String,
}

fn strategy_table(
    failing: &[(Target, Expected)],
    ranges: u64,
    cap: u64,
    budget: u64,
    jobs: usize,
    md: &mut String,
) -> StrategyKind {
    let rows: Vec<FailingRow> = pool::map(failing, jobs, |(t, _)| {
        let mut sim = Sim::new(&t.scenario, &t.variant).expect("a shipped scenario builds");
        sim.trace_level(TraceLevel::Hash);
        let medians = StrategyKind::SEEDED
            .iter()
            .map(|&kind| {
                median((0..ranges).map(|r| seeds_to_failure(&mut sim, kind, 1_000_000 * (r + 1), cap)).collect())
            })
            .collect();
        let search = bounded_search(&mut sim, budget);
        FailingRow {
            medians,
            runs: search.runs(),
            conclusion: search.conclusion_kind(),
            check: search.found().map_or("-".to_owned(), |f| f.check.clone()),
        }
    });
    let _ = writeln!(
        md,
        "### Failing variants: median seeds to the first failure ({ranges} independent seed ranges of up to {cap} seeds), and the bounded search\n"
    );
    let _ = write!(md, "| scenario / variant |");
    for k in StrategyKind::SEEDED {
        let _ = write!(md, " {k} |");
    }
    let _ = writeln!(
        md,
        " bounded: runs | deviations | first failure found |\n|---|{}---:|---:|---|",
        "---:|".repeat(StrategyKind::SEEDED.len())
    );
    // Score: geometric mean of the medians (a miss counts as twice the cap) and wins, over
    // every row and over the rows where the strategy matters (some seeded strategy needs
    // more than one seed: many rows fail on the calm run, whatever decides the choices).
    let n = StrategyKind::SEEDED.len();
    let (mut log_all, mut log_hard) = (vec![0f64; n], vec![0f64; n]);
    let (mut wins_all, mut wins_hard) = (vec![0u32; n], vec![0u32; n]);
    let mut hard = 0usize;
    let mut hard_rows = Vec::new();
    for ((t, _), row) in failing.iter().zip(&rows) {
        let _ = write!(md, "| {} |", t.name());
        let values: Vec<u64> = row.medians.iter().map(|m| m.unwrap_or(2 * cap)).collect();
        let best = values.iter().copied().min().unwrap_or(0);
        let is_hard = values.iter().any(|&v| v > 1);
        hard += usize::from(is_hard);
        if is_hard {
            hard_rows.push(values.clone());
        }
        for (i, (m, &v)) in row.medians.iter().zip(&values).enumerate() {
            log_all[i] += (v as f64).ln();
            if is_hard {
                log_hard[i] += (v as f64).ln();
            }
            let text = show(*m, cap);
            if v == best {
                wins_all[i] += 1;
                wins_hard[i] += u32::from(is_hard);
                let _ = write!(md, " **{text}** |");
            } else {
                let _ = write!(md, " {text} |");
            }
        }
        let devs = match row.conclusion {
            Conclusion::Fails { deviations, .. } => deviations.to_string(),
            Conclusion::Certified { bound, .. } => format!("none within {bound}"),
            Conclusion::Nothing => "-".into(),
        };
        let _ = writeln!(md, " {} | {devs} | {} |", row.runs, row.check);
    }
    let rows_all = failing.len().max(1) as f64;
    let rows_hard = hard.max(1) as f64;
    let summary = [
        (
            "geometric mean, all rows".to_owned(),
            log_all.iter().map(|s| format!("{:.2}", (s / rows_all).exp())).collect::<Vec<_>>(),
        ),
        (
            format!("geometric mean, the {hard} rows where some seeded strategy needs > 1 seed"),
            log_hard.iter().map(|s| format!("{:.2}", (s / rows_hard).exp())).collect(),
        ),
        ("rows where fastest, all (ties count for each)".to_owned(), wins_all.iter().map(u32::to_string).collect()),
        (format!("rows where fastest, the {hard}"), wins_hard.iter().map(u32::to_string).collect()),
    ];
    for (name, cells) in summary {
        let _ = writeln!(md, "| {name} | {} | | | |", cells.join(" | "));
    }
    md.push('\n');
    let best = (0..n).min_by(|&a, &b| log_hard[a].total_cmp(&log_hard[b])).unwrap_or(0);
    let base = StrategyKind::SEEDED.iter().position(|&k| k == StrategyKind::Random).unwrap_or(0);
    let ratios: Vec<String> = StrategyKind::SEEDED
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} {:.2}", ((log_hard[i] - log_hard[base]) / rows_hard).exp()))
        .collect();
    let _ =
        writeln!(md, "Seeds needed relative to random, geometric mean over the {hard} rows: {}.\n", ratios.join(", "));
    let _ = writeln!(
        md,
        "Fastest seeded strategy where it matters (lowest geometric mean over the {hard} rows): **{}**; the default is **{}**.\n",
        StrategyKind::SEEDED[best],
        StrategyKind::DEFAULT
    );
    let _ = writeln!(
        md,
        "The bounded search is one deterministic search (the calm run, then every run with 1, 2, ... \
         deviations), counted in runs, not a median over seed ranges; it stops at its first failure \
         of any invariant, which has the fewest deviations any failure has. Budget: {budget} runs.\n"
    );
    StrategyKind::SEEDED[best]
}

fn certificate_table(holding: &[(Target, Expected)], budget: u64, jobs: usize, md: &mut String) {
    let rows: Vec<(Bounded, f64)> = pool::map(holding, jobs, |(t, _)| {
        let mut sim = Sim::new(&t.scenario, &t.variant).expect("a shipped scenario builds");
        sim.trace_level(TraceLevel::Hash);
        let start = Instant::now();
        let search = bounded_search(&mut sim, budget);
        (search, start.elapsed().as_secs_f64())
    });
    let _ =
        writeln!(md, "### Variants expected to hold: the bound the bounded search certifies ({budget} runs at most)\n");
    let _ = writeln!(
        md,
        "| scenario / variant | certified: no violation within | runs | distinct traces | next level: runs passed of | seconds |\n|---|---:|---:|---:|---|---:|"
    );
    for ((t, _), (search, secs)) in holding.iter().zip(&rows) {
        let (level, size, seen) = search.level();
        let devs = |k: u32| if k == 1 { "1 deviation".to_owned() } else { format!("{k} deviations") };
        let (bound, next) = match search.conclusion_kind() {
            Conclusion::Certified { bound, everything: true } => {
                (format!("{} (every run)", devs(bound)), "none: no run has more".to_owned())
            }
            Conclusion::Certified { bound, .. } => {
                let next = if level > bound { format!("{seen} of {size}") } else { "-".to_owned() };
                (devs(bound), next)
            }
            Conclusion::Fails { deviations, .. } => (format!("FAILS with {deviations}"), "-".to_owned()),
            Conclusion::Nothing => ("-".to_owned(), "-".to_owned()),
        };
        let _ =
            writeln!(md, "| {} | {bound} | {} | {} | {next} | {secs:.1} |", t.name(), search.runs(), search.distinct());
    }
    md.push('\n');
}

/// CPU seconds this process has used (user + system), from /proc on Linux (`None` elsewhere);
/// with other work on the machine, wall time alone cannot show how two workers scale.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and
    // 13th of them, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn throughput_table(md: &mut String) {
    let all: Vec<Target> = scenario_files()
        .into_iter()
        .filter_map(|f| {
            let s = Scenario::load(&Registry::builtin(), &f).ok()?;
            targets(&f.display().to_string(), s, None).ok()
        })
        .flatten()
        .collect();
    let _ = writeln!(md, "### Sweep throughput (every shipped scenario and variant, 200 seeds each, random)\n");
    let _ = writeln!(
        md,
        "| jobs | runs | wall seconds (median of 3) | runs/s | vs 1 job | CPU seconds | cores used |\n|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut base = 0.0;
    for jobs in [1usize, 2] {
        let mut times = Vec::new();
        let mut runs = 0;
        for _ in 0..3 {
            let mut cfg = SweepConfig::new(all.clone(), 0..200);
            cfg.jobs = jobs;
            cfg.strategy = StrategyKind::Random;
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let summary = sweep(&cfg, &AtomicBool::new(false), &mut Collect::default()).expect("sweeps");
            let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
            times.push((start.elapsed().as_secs_f64(), cpu));
            runs = summary.progress.runs();
        }
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, cpu) = times[1];
        let rate = runs as f64 / wall;
        if jobs == 1 {
            base = rate;
        }
        let cpu_text = cpu.map_or("-".to_owned(), |c| format!("{c:.2}"));
        let cores = cpu.map_or("-".to_owned(), |c| format!("{:.2}", c / wall));
        let _ =
            writeln!(md, "| {jobs} | {runs} | {wall:.2} | {rate:.0} | {:.2}x | {cpu_text} | {cores} |", rate / base);
    }
    md.push('\n');
}

/// A (scenario, variant, invariant) the scenario file says fails.
struct Known {
    target: Target,
    check: String,
}

fn shrink_table(failing: &[(Target, Expected)], jobs: usize, md: &mut String) {
    let known: Vec<Known> = failing
        .iter()
        .flat_map(|(t, e)| match e {
            Expected::Violates(names) | Expected::Includes(names) => {
                names.iter().map(|c| Known { target: t.clone(), check: c.clone() }).collect()
            }
            Expected::Holds => Vec::new(),
        })
        .collect();
    let rows = pool::map(&known, jobs, |k| {
        let mut sim = Sim::new(&k.target.scenario, &k.target.variant).expect("builds");
        let seed = (0..5000u64).find(|&s| sim.seed(s).verdict.failed_check() == Some(k.check.as_str()))?;
        let out = sim.seed(seed);
        let failure = Failure {
            file: k.target.file.clone(),
            scenario: out.scenario.clone(),
            variant: out.variant.clone(),
            seed,
            strategy: "random".into(),
            params: serde_json::Value::Null,
            also: Failure::also_of(&out),
            verdict: out.verdict,
            trace_hash: out.trace_hash,
            tape: sim.choices().to_vec(),
            shrunk: None,
        };
        let start = Instant::now();
        let r = shrink(&k.target.scenario, &failure, ShrinkConfig::default()).ok()?;
        assert!(non_calm(&r.failure.tape) <= non_calm(&failure.tape));
        Some((seed, r, start.elapsed().as_secs_f64()))
    });
    let _ = writeln!(md, "### Shrinking the first failure of each (random strategy, seeds from 0)\n");
    let _ = writeln!(
        md,
        "| scenario / variant | invariant | seed | non-calm choices | tape choices | trace events | runs | ms |\n|---|---|---:|---:|---:|---:|---:|---:|"
    );
    for (k, row) in known.iter().zip(rows) {
        match row {
            Some((seed, r, secs)) => {
                let _ = writeln!(
                    md,
                    "| {} | {} | {seed} | {} -> {} | {} -> {} | {} -> {} | {} | {:.0} |",
                    k.target.name(),
                    k.check,
                    r.before.faults,
                    r.after.faults,
                    r.before.choices,
                    r.after.choices,
                    r.before.events,
                    r.after.events,
                    r.runs,
                    secs * 1000.0
                );
            }
            None => {
                let _ = writeln!(md, "| {} | {} | - | no failure in seeds 0..5000 | | | | |", k.target.name(), k.check);
            }
        }
    }
    md.push('\n');
}

fn criterion_sweeps(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml");
    let s = Scenario::load(&Registry::builtin(), path).expect("loads");
    let t = targets(path, s, None).expect("targets");
    let mut group = c.benchmark_group("sweep_dispose_during_ice_5x100");
    group.sample_size(10);
    group.throughput(Throughput::Elements(500));
    for jobs in [1usize, 2] {
        group.bench_function(format!("jobs{jobs}"), |b| {
            b.iter(|| {
                let mut cfg = SweepConfig::new(t.clone(), 0..100);
                cfg.jobs = jobs;
                sweep(&cfg, &AtomicBool::new(false), &mut Collect::default()).expect("sweeps")
            })
        });
    }
    group.finish();
}

const HEADER: &str = "# Exploration benchmark tables

Generated by `cargo bench --bench explore` (it writes this file when it computes every table),
on a two-core machine shared with other work; seed and run counts do not depend on the machine,
times do. The strategies table counts a run as failing when it breaks any invariant or monitor
(for these variants every failure is one their scenario file expects).

";

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    if benching {
        let ranges = env_u64("RACELAB_BENCH_RANGES", 21).max(1);
        let cap = env_u64("RACELAB_BENCH_CAP", 1000).max(1);
        let budget = env_u64("RACELAB_BENCH_BUDGET", bounded::Bounds::default().budget).max(1);
        let jobs = 2;
        let all = pairs();
        let (holding, failing): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, e)| matches!(e, Expected::Holds));
        let tables = std::env::var("RACELAB_BENCH_TABLES")
            .unwrap_or_else(|_| "strategies,certificates,throughput,shrink".into());
        let mut md = String::new();
        let start = Instant::now();
        let mut best = StrategyKind::DEFAULT;
        if tables.contains("strategies") {
            best = strategy_table(&failing, ranges, cap, budget, jobs, &mut md);
        }
        if tables.contains("certificates") {
            certificate_table(&holding, budget, jobs, &mut md);
        }
        if tables.contains("throughput") {
            throughput_table(&mut md);
        }
        if tables.contains("shrink") {
            shrink_table(&failing, jobs, &mut md);
        }
        let _ = writeln!(md, "(tables computed in {:.0}s on {jobs} threads)", start.elapsed().as_secs_f64());
        print!("{md}");
        let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/explore-bench.md");
        let _ = std::fs::write(out, &md);
        if ["strategies", "certificates", "throughput", "shrink"].iter().all(|t| tables.contains(t)) {
            let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/explore-bench.md");
            let _ = std::fs::write(docs, format!("{HEADER}{md}"));
        }
        if best != StrategyKind::DEFAULT {
            println!("NOTE: {best} beat the default {} in this run", StrategyKind::DEFAULT);
        }
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_sweeps(&mut c);
    c.final_summary();
}
