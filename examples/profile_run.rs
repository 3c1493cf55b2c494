//! Runs many seeds of one scenario variant, for profiling (`perf record`, `valgrind --tool=callgrind`):
//! `profile_run [FILE] [VARIANT] [RUNS] [off|hash]` (trace off by default; `hash` is what
//! `racelab run` keeps, with the tape recorded).
use racelab::engine::Registry;
use racelab::engine::{Sim, TraceLevel};
use racelab::scenario::Scenario;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().unwrap_or_else(|| "scenarios/dispose_during_ice.toml".into());
    let variant = args.next().unwrap_or_else(|| "flag_callback".into());
    let runs: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let scenario = match Scenario::load(&Registry::builtin(), &file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut sim = match Sim::new(&scenario, &variant) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if args.next().as_deref() == Some("hash") {
        sim.trace_level(TraceLevel::Hash).record_tape(true);
    } else {
        sim.trace_level(TraceLevel::Off).record_tape(false);
    }
    let start = std::time::Instant::now();
    let mut ticks = 0;
    for seed in 0..runs {
        ticks += sim.seed(seed).metrics.get("sim.ticks_visited").copied().unwrap_or(0);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{runs} runs in {secs:.2}s: {:.0} runs/s, {:.1} us/run (ticks {ticks})",
        runs as f64 / secs,
        secs * 1e6 / runs as f64
    );
}
