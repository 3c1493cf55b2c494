//! The fuzz harness (issue 16), on stable Rust: a seeded mutator over the shipped scenarios
//! and failure files made from them, driving parse, validate, build, run, replay (exact and
//! damaged tapes), shrink and every report format in-process under `catch_unwind`, with
//! per-input limits. `cargo test --test fuzz` runs a short campaign; `cargo run --release
//! --example fuzz -- --inputs N` runs a long one (see the README).
//!
//! The campaign is deterministic: input `i` is mutated from the corpus by a generator seeded
//! with (`seed`, `i`), so a reported input number reproduces its input.

#![allow(dead_code)]

use racelab::engine::replay::Failure;
use racelab::engine::tape::{Choice, ReplayMode};
use racelab::engine::{Registry, Sim, Tape, TraceLevel};
use racelab::explore::shrink::{ShrinkConfig, shrink};
use racelab::report::view::View;
use racelab::report::{html, jsonl, mermaid, timeline};
use racelab::scenario::Scenario;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

/// Per-input limits: a mutated scenario may ask for a billion ticks; the harness looks for
/// panics, not for patience.
pub const MAX_TICKS: u64 = 3_000;
/// See [`MAX_TICKS`].
pub const MAX_MESSAGES: u64 = 5_000;
/// Variants run per scenario input.
pub const VARIANTS: usize = 2;
/// Runs the shrinker may make per input.
pub const SHRINK_RUNS: u64 = 12;

/// One corpus entry: a scenario file (and its path) or a failure file.
#[derive(Clone)]
pub enum Seed {
    /// A scenario: (path, text).
    Scenario(String, String),
    /// A failure file's JSON (its `file` names a corpus scenario).
    Failure(String),
}

/// The corpus: every shipped scenario and one failure file per scenario that has a failing
/// seed among its first few.
pub struct Corpus {
    /// The entries.
    pub seeds: Vec<Seed>,
    /// Parsed shipped scenarios by path, for failure inputs.
    pub scenarios: BTreeMap<String, Scenario>,
}

impl Corpus {
    /// Load from the repository at `root`.
    pub fn load(root: &Path) -> Corpus {
        let registry = Registry::builtin();
        let mut files: Vec<_> = std::fs::read_dir(root.join("scenarios"))
            .expect("scenarios/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut seeds = Vec::new();
        let mut scenarios = BTreeMap::new();
        for f in files {
            let name = format!("scenarios/{}", f.file_name().expect("name").to_string_lossy());
            let text = std::fs::read_to_string(&f).expect("reads");
            seeds.push(Seed::Scenario(name.clone(), text.clone()));
            let Ok(mut s) = Scenario::parse(&registry, &name, &text) else { continue };
            limit(&mut s);
            if let Some(v) = s.variants.first().cloned()
                && let Ok(mut sim) = Sim::new(&s, &v)
            {
                for seed in 0..8 {
                    let out = sim.seed(seed);
                    if !out.verdict.is_pass() {
                        seeds.push(Seed::Failure(failure_of(&name, &v, &sim, &out).to_json()));
                        break;
                    }
                }
            }
            scenarios.insert(name, s);
        }
        Corpus { seeds, scenarios }
    }
}

fn failure_of(file: &str, variant: &str, sim: &Sim, out: &racelab::engine::Outcome) -> Failure {
    Failure {
        file: file.to_owned(),
        scenario: out.scenario.clone(),
        variant: variant.to_owned(),
        seed: out.seed,
        strategy: "random".into(),
        params: serde_json::Value::Null,
        verdict: out.verdict.clone(),
        also: Failure::also_of(out),
        trace_hash: out.trace_hash.clone(),
        tape: sim.choices().to_vec(),
        shrunk: None,
    }
}

fn limit(s: &mut Scenario) {
    s.max_ticks = s.max_ticks.min(MAX_TICKS);
    s.max_messages = s.max_messages.min(MAX_MESSAGES);
}

/// A small, fast, seeded generator (SplitMix64): the mutator needs no more.
pub struct Rng(u64);

impl Rng {
    /// Seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A value below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens that tend to find edges: sizes past every limit, signs, TOML and JSON syntax,
/// control characters, Mermaid and HTML syntax, long runs.
const TOKENS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "255",
    "256",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "1e9",
    "1e308",
    "nan",
    "inf",
    "-0",
    "0.5",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\"\"\"",
    "\n",
    "\r\n",
    "\t",
    "=",
    ",",
    ".",
    "#",
    "[[step]]\n",
    "[[expect]]\n",
    "at = ",
    "do = ",
    "count = ",
    "\\u001b]0;x\\u0007",
    "\u{1b}[2J",
    "%%{init: {}}%%",
    "<script>",
    "&",
    "$(touch x)",
    "../../",
    "\u{0}",
    "\u{202e}",
    "é",
    "🦀",
    "null",
    "true",
    "false",
    "{}",
    "[]",
    ":",
    "\\",
    "\\n",
    "\"label\"",
    "\"value\"",
];

/// Input `i` of the campaign seeded with `seed`: a corpus entry with 1 to 8 mutations.
pub fn input(corpus: &Corpus, seed: u64, i: u64) -> Seed {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01b3) ^ i);
    let base = corpus.seeds[rng.below(corpus.seeds.len())].clone();
    // Mostly one or two edits (most still parse, so later stages are reached), at times many.
    let n = if rng.below(4) == 0 { 1 + rng.below(8) } else { 1 + rng.below(2) };
    match base {
        Seed::Scenario(path, text) => {
            let mut b = text.into_bytes();
            for _ in 0..n {
                mutate(&mut rng, &mut b, corpus);
            }
            Seed::Scenario(path, String::from_utf8_lossy(&b).into_owned())
        }
        Seed::Failure(text) => {
            let mut b = text.into_bytes();
            for _ in 0..n {
                mutate(&mut rng, &mut b, corpus);
            }
            Seed::Failure(String::from_utf8_lossy(&b).into_owned())
        }
    }
}

fn mutate(rng: &mut Rng, b: &mut Vec<u8>, corpus: &Corpus) {
    let at = rng.below(b.len() + 1);
    match rng.below(10) {
        0 if !b.is_empty() => {
            let k = rng.below(b.len());
            b[k] ^= 1 << rng.below(8);
        }
        1 => b.insert(at.min(b.len()), rng.next() as u8),
        2 if !b.is_empty() => {
            let len = 1 + rng.below(32.min(b.len()));
            let from = rng.below(b.len() + 1 - len);
            b.drain(from..from + len);
        }
        3 if !b.is_empty() => {
            // Duplicate a span (repeats steps, tape entries, nesting) a few times.
            let len = 1 + rng.below(200.min(b.len()));
            let from = rng.below(b.len() + 1 - len);
            let span = b[from..from + len].to_vec();
            for _ in 0..1 + rng.below(4) {
                b.splice(at.min(b.len())..at.min(b.len()), span.iter().copied());
            }
        }
        4 | 5 => {
            let t = TOKENS[rng.below(TOKENS.len())];
            b.splice(at..at, t.bytes());
        }
        6 => {
            // Replace a number with an interesting one.
            let digits: Vec<usize> = (0..b.len()).filter(|&k| b[k].is_ascii_digit()).collect();
            if !digits.is_empty() {
                let mut s = digits[rng.below(digits.len())];
                while s > 0 && b[s - 1].is_ascii_digit() {
                    s -= 1;
                }
                let mut e = s;
                while e < b.len() && b[e].is_ascii_digit() {
                    e += 1;
                }
                let t = ["0", "1", "4294967296", "18446744073709551615", "100000", "1000000000", "65536"][rng.below(7)];
                b.splice(s..e, t.bytes());
            }
        }
        7 => {
            // Splice a line from another corpus entry.
            let other = match &corpus.seeds[rng.below(corpus.seeds.len())] {
                Seed::Scenario(_, t) | Seed::Failure(t) => t,
            };
            let lines: Vec<&str> = other.lines().collect();
            if !lines.is_empty() {
                let l = lines[rng.below(lines.len())];
                b.splice(at..at, format!("{l}\n").into_bytes());
            }
        }
        8 if !b.is_empty() => {
            // A long run of one character (long lines, long names).
            let c = b[rng.below(b.len())];
            let n = [100, 1_000, 70_000][rng.below(3)];
            b.splice(at..at, std::iter::repeat_n(c, n));
        }
        _ if !b.is_empty() => {
            let k = rng.below(b.len());
            b[k] = rng.next() as u8;
        }
        _ => {}
    }
}

/// What one input reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reach {
    /// Rejected by the parser or validation (a located error).
    #[default]
    Rejected,
    /// Built and run.
    Ran,
}

/// Drive one input through every stage. Panics propagate (the caller catches them).
pub fn drive(corpus: &Corpus, input: &Seed) -> Reach {
    let registry = Registry::builtin();
    match input {
        Seed::Scenario(path, text) => {
            let mut s = match Scenario::parse(&registry, path, text) {
                Ok(s) => s,
                Err(e) => {
                    // Errors render (the snippet window, the annotated snippet, coloured or
                    // not) whatever the line.
                    let plain = racelab::report::diagnostic::render_with(&e, false);
                    let coloured = racelab::report::diagnostic::render_with(&e, true);
                    assert!(plain.starts_with(&format!("error: {}:{}:{}: ", e.file, e.line, e.column)));
                    assert!(coloured.len() >= plain.len());
                    return Reach::Rejected;
                }
            };
            limit(&mut s);
            let mut reach = Reach::Rejected;
            for v in s.variants.clone().iter().take(VARIANTS) {
                let Ok(mut sim) = Sim::new(&s, v) else { continue };
                reach = Reach::Ran;
                sim.trace_level(TraceLevel::Full);
                let out = sim.seed(3);
                reports(&sim, &out);
                let failure = failure_of(path, v, &sim, &out);
                let tape = failure.tape.clone();
                // Exact replay of the run's own tape.
                let again = sim.tape(tape.clone());
                assert_eq!(again.trace_hash, out.trace_hash, "replay of {path}/{v} is not exact");
                // A damaged tape: strict and lenient.
                let damaged = damage(tape, out.seed);
                let d = sim.tape(damaged.clone());
                let _ = timeline::render(sim.trace(), sim.names(), &d);
                let _ = sim.run(Tape::replay(damaged, ReplayMode::Lenient), out.seed);
                if !out.verdict.is_pass() {
                    let _ = shrink(&s, &failure, ShrinkConfig { max_runs: SHRINK_RUNS });
                }
            }
            reach
        }
        Seed::Failure(text) => {
            let Ok(f) = serde_json::from_str::<Failure>(text) else { return Reach::Rejected };
            let _ = f.to_json();
            let Some(s) = corpus.scenarios.get(&f.file) else { return Reach::Rejected };
            let Ok(mut sim) = Sim::new(s, &f.variant) else { return Reach::Rejected };
            sim.trace_level(TraceLevel::Full);
            let out = sim.tape(f.tape.clone());
            reports(&sim, &out);
            let _ = shrink(s, &f, ShrinkConfig { max_runs: SHRINK_RUNS });
            Reach::Ran
        }
    }
}

fn reports(sim: &Sim, out: &racelab::engine::Outcome) {
    let _ = timeline::render(sim.trace(), sim.names(), out);
    let _ = jsonl::render(sim.trace(), sim.names(), out);
    let view = View::new(sim.trace().events(), sim.names(), out);
    let _ = timeline::render_view(&view, true);
    let _ = mermaid::render(&view);
    let _ = html::render(&view);
}

/// A tape with a few entries changed, dropped, duplicated or appended.
fn damage(mut tape: Vec<Choice>, seed: u64) -> Vec<Choice> {
    let mut rng = Rng::new(seed ^ tape.len() as u64);
    for _ in 0..1 + rng.below(4) {
        let k = rng.below(tape.len() + 1);
        match rng.below(4) {
            0 if k < tape.len() => tape[k].value = rng.next() as u32,
            1 if k < tape.len() => {
                tape.remove(k);
            }
            2 if k < tape.len() => {
                let c = tape[k].clone();
                tape.insert(k, c);
            }
            _ => {
                if let Some(c) = tape.last().cloned() {
                    tape.push(c);
                }
            }
        }
    }
    tape
}

/// What a campaign found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs driven.
    pub inputs: u64,
    /// Inputs that got as far as a run.
    pub ran: u64,
    /// (input number, panic message) of every panic.
    pub panics: Vec<(u64, String)>,
    /// The slowest input and its time.
    pub slowest: (u64, Duration),
    /// The input with the highest peak resident memory, and that peak in KiB (0 when not
    /// measured).
    pub biggest: (u64, u64),
    /// Wall time of the campaign.
    pub elapsed: Duration,
}

/// Peak resident memory of this process in KiB (`VmHWM`), if Linux says.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Reset the peak resident memory to the current one (Linux), so the next reading is one
/// input's peak.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Run inputs `from..to` of the campaign seeded with `seed`, measuring memory per input when
/// `memory` is set; `progress` is called every 10,000 inputs.
pub fn campaign(
    corpus: &Corpus,
    seed: u64,
    range: std::ops::Range<u64>,
    memory: bool,
    mut progress: impl FnMut(&Report),
) -> Report {
    let mut report = Report::default();
    let start = Instant::now();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in range {
        let input = input(corpus, seed, i);
        if memory {
            reset_peak_rss();
        }
        let t = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| drive(corpus, &input))) {
            Ok(Reach::Ran) => report.ran += 1,
            Ok(Reach::Rejected) => {}
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                report.panics.push((i, msg));
            }
        }
        let took = t.elapsed();
        if took > report.slowest.1 {
            report.slowest = (i, took);
        }
        if memory
            && let Some(kib) = peak_rss_kib()
            && kib > report.biggest.1
        {
            report.biggest = (i, kib);
        }
        report.inputs += 1;
        if report.inputs % 10_000 == 0 {
            report.elapsed = start.elapsed();
            progress(&report);
        }
    }
    std::panic::set_hook(quiet);
    report.elapsed = start.elapsed();
    report
}
