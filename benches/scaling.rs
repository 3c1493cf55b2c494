//! How the per-run cost grows with a scenario's size: the dispose-during-ICE race with 2, 8,
//! 32 and 128 peers connecting (`signaling`, variant `flag_callback`), and the locked strikes
//! handlers with 2, 8, 32 and 128 copies (`tasks`, variant `locked`), each with the trace
//! hash on, as `racelab run` keeps it. (A task's `copies` is capped at 64: 128 copies are two
//! task blocks of 64 with the same body.)
//!
//! The scenarios are the shipped ones with only the size changed: one `connect` step per
//! peer (a tick apart from tick 10, `dispose` still at 40-120), or `copies = N` with the final
//! check `strikes == N`. `cargo bench --bench scaling` prints a Markdown table of the cost per
//! run and per peer or task, each as a ratio to the size-2 run measured in the same process.

mod support;
use support::per_run;

use criterion::{Criterion, criterion_group, criterion_main};
use racelab::prelude::*;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

const SIZES: [usize; 4] = [2, 8, 32, 128];

fn signaling(peers: usize) -> String {
    let mut steps = String::new();
    for i in 0..peers {
        let _ = write!(steps, "[[step]]\nat = {}\ndo = \"connect\"\npeer = \"P{}\"\n", 10 + i, i + 1);
    }
    format!(
        "name = \"ice_{peers}_peers\"\nmodel = \"signaling\"\nmax_ticks = 5000\n\
         [signaling]\nawait = [1, 6]\nice_candidates = [2, 4]\nice_delay = [1, 40]\n\
         [faults]\ndelay = [1, 10]\nheal_at = 1500\n\
         [[step]]\nat = 0\ndo = \"enable_external\"\nserver = \"A\"\n{steps}\
         [[step]]\nat = [40, 120]\ndo = \"dispose\"\n"
    )
}

fn tasks(copies: usize) -> String {
    let shipped = include_str!("../scenarios/strikes_lost_increment.toml");
    let mut text = shipped
        .replace("copies = 3", &format!("copies = {}", copies.min(64)))
        .replace("check = \"strikes == 3\"", &format!("check = \"strikes == {copies}\""))
        .replace("max_ticks = 300", "max_ticks = 100000");
    if copies > 64 {
        // A second block of the same handler, under its own name in every variant.
        let block = "[[task]]\nname = \"color_change\"\n";
        let at = text.find(block).expect("the shipped file has the color_change task");
        text.insert_str(
            at,
            &format!("[[task]]\nname = \"color_change_2\"\ncopies = {}\nstart = [0, 5]\n\n", copies - 64),
        );
        for v in ["getattr_setattr", "await_between", "locked"] {
            let head = format!("[variant.{v}]\n");
            let start = text.find(&head).expect("variant") + head.len();
            let body_at = start + text[start..].find("color_change = \"\"\"").expect("body");
            let end = body_at + text[body_at..].find("\"\"\"\n").expect("open") + 4;
            let end = end + text[end..].find("\"\"\"\n").expect("close") + 4;
            let body = text[body_at..end].replacen("color_change", "color_change_2", 1);
            text.insert_str(end, &body);
        }
    }
    text
}

fn sim(text: &str, variant: &str) -> Sim {
    let scenario = Scenario::parse(&Registry::builtin(), "scaling.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Hash);
    sim
}

fn bench(c: &mut Criterion) {
    let budget = Duration::from_millis(1500);
    let mut table = String::from(
        "| model, size | µs per run | x size 2 | µs per peer or task | ticks visited |\n|---|---|---|---|---|\n",
    );
    for (model, variant, text) in
        [("signaling peers", "flag_callback", signaling as fn(usize) -> String), ("tasks copies", "locked", tasks)]
    {
        let mut g = c.benchmark_group(format!("scaling/{model}"));
        g.sample_size(20);
        let mut base = None;
        for n in SIZES {
            let mut s = sim(&text(n), variant);
            // The race must still be there to be timed: a run that does nothing is cheap.
            let ticks = s.seed(0).metrics.get("sim.ticks_visited").copied().unwrap_or(0);
            assert!(ticks > 0, "{model} {n}: nothing ran");
            g.bench_function(format!("{n}"), |b| {
                let mut seed = 0;
                b.iter(|| {
                    seed += 1;
                    black_box(s.seed(seed).ticks)
                })
            });
            let t = per_run(|seed| drop(black_box(s.seed(seed))), budget);
            let base = *base.get_or_insert(t);
            let _ = writeln!(
                table,
                "| {model} {n} | {:.1} | {:.2}x | {:.2} | {ticks} |",
                t * 1e6,
                t / base,
                t * 1e6 / n as f64
            );
        }
        g.finish();
    }
    eprintln!("\n{table}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
