//! Runs per second of the adapters model's scenarios, against an idle run of the same model
//! (no steps: only the chat keepalives and health checks until the end of observation) as the
//! in-run baseline, and with the trace hash on and off.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use racelab::engine::Registry;
use racelab::engine::{Sim, TraceLevel};
use racelab::scenario::Scenario;
use std::hint::black_box;

const IDLE: &str =
    "name = \"idle\"\nmodel = \"adapters\"\nmax_ticks = 1000\n[faults]\ndelay = [1, 10]\nheal_at = 200\n";

fn load(name: &str) -> Scenario {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::load(&Registry::builtin(), path).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let idle = Scenario::parse(&Registry::builtin(), "idle.toml", IDLE).unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        ("idle", idle, "fixed"),
        ("clone_loses_callbacks", load("clone_loses_callbacks"), "fixed"),
        ("clone_loses_callbacks", load("clone_loses_callbacks"), "baseline"),
        ("auth_recovery_chain", load("auth_recovery_chain"), "fixed"),
        ("leave_channel_zombie", load("leave_channel_zombie"), "fixed"),
        ("health_check_eats_messages", load("health_check_eats_messages"), "fixed"),
        ("persistent_reconnect_failure", load("persistent_reconnect_failure"), "fixed"),
    ];
    let mut group = c.benchmark_group("adapters");
    group.throughput(Throughput::Elements(1));
    for (name, scenario, variant) in &cases {
        for level in [TraceLevel::Hash, TraceLevel::Off] {
            let mut sim = Sim::new(scenario, variant).unwrap_or_else(|e| panic!("{e}"));
            sim.trace_level(level).record_tape(false);
            let mut seed = 0u64;
            let label = format!("{name}/{variant}/{}", if level == TraceLevel::Off { "trace_off" } else { "hash" });
            group.bench_function(label, |b| {
                b.iter(|| {
                    seed += 1;
                    black_box(sim.seed(seed).ticks)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
