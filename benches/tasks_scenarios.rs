//! Throughput of the tasks model, against a hand-written simulation of the same race.
//!
//! The baseline is `strikes_lost_increment/locked` written directly in Rust: three handlers
//! as a `match` on a program counter, a wake-up queue, a FIFO lock, ChaCha8 for the same
//! decisions (start ticks, latencies, which ready handler runs). The ratio says what the
//! generality costs: the ECS world, the schedule, the interpreter, the tape.

mod support;
use support::interleaved;

use criterion::{Criterion, criterion_group, criterion_main};
use racelab::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;
use std::time::Duration;

/// The locked strikes handlers, by hand. Returns the final count (3).
fn handwritten(seed: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut wakeups: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    let mut seq = 0u64;
    let mut at = |w: &mut BTreeMap<(u64, u64), usize>, tick: u64, t: usize| {
        w.insert((tick, seq), t);
        seq += 1;
    };
    for t in 0..3 {
        let start = rng.random_range(0..=5u64);
        at(&mut wakeups, start, t);
    }
    let mut pc = [0u8; 3];
    let mut read = [0u64; 3];
    let mut strikes = 0u64;
    let mut holder: Option<usize> = None;
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut ready: Vec<usize> = Vec::new();
    while let Some((&(now, _), _)) = wakeups.iter().next() {
        while let Some((&(tick, s), &t)) = wakeups.iter().next() {
            if tick > now {
                break;
            }
            wakeups.remove(&(tick, s));
            ready.push(t);
        }
        while !ready.is_empty() {
            let k = if ready.len() > 1 { rng.random_range(0..ready.len()) } else { 0 };
            let t = ready.remove(k);
            loop {
                match pc[t] {
                    0 => {
                        // call color_api: there and back
                        let lat = rng.random_range(1..=3u64) + rng.random_range(1..=3u64);
                        pc[t] = 1;
                        at(&mut wakeups, now + lat, t);
                        break;
                    }
                    1 => {
                        pc[t] = 2;
                        if holder.is_none() && queue.is_empty() {
                            holder = Some(t);
                        } else {
                            queue.push_back(t);
                            break;
                        }
                    }
                    2 => {
                        read[t] = strikes;
                        let lat = rng.random_range(1..=3u64) + rng.random_range(1..=3u64);
                        pc[t] = 3;
                        at(&mut wakeups, now + lat, t);
                        break;
                    }
                    3 => {
                        strikes = read[t] + 1;
                        pc[t] = 4;
                        holder = queue.pop_front();
                        if let Some(next) = holder {
                            ready.push(next);
                        }
                    }
                    _ => break,
                }
            }
        }
    }
    strikes
}

fn sim(file: &str, variant: &str) -> Sim {
    let path = format!("{}/scenarios/{file}.toml", env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Off).record_tape(false);
    sim
}

fn bench(c: &mut Criterion) {
    assert_eq!(handwritten(1), 3);
    let mut g = c.benchmark_group("tasks");
    g.bench_function("handwritten_strikes_locked", |b| {
        let mut s = 0;
        b.iter(|| {
            s += 1;
            black_box(handwritten(s))
        })
    });
    for (file, variant) in [
        ("strikes_lost_increment", "locked"),
        ("token_refresh_race", "single_flight"),
        ("pending_lost_update", "swap_under_lock"),
        ("config_lock_order_deadlock", "opposite_orders"),
    ] {
        let mut sim = sim(file, variant);
        let mut s = 0;
        g.bench_function(format!("{file}/{variant}"), |b| {
            b.iter(|| {
                s += 1;
                black_box(sim.seed(s).ticks)
            })
        });
    }
    g.finish();

    // The ratio, measured in alternating slices in this run.
    let mut strikes = sim("strikes_lost_increment", "locked");
    let sides = interleaved(
        &mut [&mut |s| assert_eq!(black_box(handwritten(s)), 3), &mut |s| assert!(strikes.seed(s).verdict.is_pass())],
        Duration::from_secs(3),
    );
    let (base, model) = (sides.per_run[0], sides.per_run[1]);
    eprintln!(
        "strikes_lost_increment/locked: racelab {:.1} us/run, hand-written {:.2} us/run, ratio {:.0}x ({:.0} runs/s, {} alternating rounds)",
        model * 1e6,
        base * 1e6,
        sides.ratio[1],
        1.0 / model,
        sides.rounds
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
