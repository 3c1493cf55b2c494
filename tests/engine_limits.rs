//! Limits end a run with a verdict naming them, as they are reached: `max_messages` when the
//! message that would pass it is sent, and a model's own bound through `SimCtx::halt`.

use racelab::engine::faults::FaultPlan;
use racelab::engine::{Limits, Verdict};
use racelab::prelude::*;

#[test]
fn max_messages_is_enforced_as_messages_are_sent() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"))
        .expect("reads")
        .replace("max_ticks = 2000", "max_ticks = 2000\nmax_messages = 5");
    let s = Scenario::parse(&Registry::builtin(), "limited.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&s, "stream").expect("builds");
    for seed in 0..20 {
        let o = sim.seed(seed);
        assert_eq!(o.verdict, Verdict::Halted { limit: "max_messages".into() }, "seed {seed}: {o:?}");
        assert_eq!(o.messages, 5, "not one message past the limit");
    }
}

#[derive(Resource, Default, Clone)]
struct Spins(u64);

/// A model that works forever unless its own bound stops it.
fn spin(mut spins: ResMut<Spins>, mut cx: SimCtx, mut out: MessageWriter<Outbound<Ping>>) {
    spins.0 += 1;
    if spins.0 > 50 {
        cx.halt("max_spins");
    }
    out.write(Outbound(Ping));
}

#[derive(Clone, Debug)]
struct Ping;
impl Describe for Ping {
    fn label(&self) -> &'static str {
        "ping"
    }
}

#[test]
fn a_model_bound_is_a_halted_verdict_that_names_it() {
    let mut sim =
        Sim::custom("spin", FaultPlan::calm(), Limits { max_ticks: 10_000, max_messages: 1_000_000 }, |app| {
            app.add_wire::<Ping>().init_sim_resource::<Spins>();
            app.add_model_systems(spin);
        })
        .expect("builds");
    let o = sim.seed(0);
    assert_eq!(o.verdict, Verdict::Halted { limit: "max_spins".into() });
    assert_eq!(o.ticks, 50, "halted on the step that hit the bound");
    // The limit is forgotten by the next run.
    assert_eq!(sim.seed(1).verdict, Verdict::Halted { limit: "max_spins".into() });
}

fn tasks_run(program: &str, max_ticks: u64) -> Verdict {
    tasks_outcome(program, max_ticks).verdict
}

fn tasks_outcome(program: &str, max_ticks: u64) -> racelab::engine::Outcome {
    let text = format!(
        "name = \"bounded\"\nmodel = \"tasks\"\nmax_ticks = {max_ticks}\n[options]\nfinish_within = 1000000000\n[[task]]\nname = \"t\"\nprogram = \"\"\"\n{program}\n\"\"\"\n[[task]]\nname = \"w\"\nprogram = \"await 1\"\n"
    );
    let s = Scenario::parse(&Registry::builtin(), "bounded.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}")).seed(0)
}

#[test]
fn a_task_spawning_for_ever_is_halted_by_the_task_limit() {
    let v = tasks_run("loop {\n  spawn w\n  spawn w\n  await 1\n}", 1_000_000);
    assert_eq!(v, Verdict::Halted { limit: "max_tasks".into() });
}

#[test]
fn a_program_that_never_settles_is_halted_by_its_fuel() {
    // Far under the per-tick budget, but for ever: only the run's fuel ends it.
    let v = tasks_run("set i = 0\nloop {\n  set i = i + 1\n  if i % 1000 == 0 {\n    await 1\n  }\n}", 100_000_000);
    assert_eq!(v, Verdict::Halted { limit: "max_steps".into() });
}

#[test]
fn copying_a_large_value_on_every_step_is_charged_to_the_fuel() {
    // The fuzz campaign's slowest input (53 s) copied a large value on every step: 2,000,000
    // steps of a 57,344-byte copy. Each copy now costs its size, so the run halts after a few
    // dozen of them.
    let mut program = String::from("set s = \"xxxxxxx\"\n");
    for _ in 0..13 {
        program.push_str("set s = s + s\n");
    }
    program.push_str("loop {\n  set t = s\n  await 1\n}");
    let out = tasks_outcome(&program, 100_000_000);
    assert_eq!(out.verdict, Verdict::Halted { limit: "max_steps".into() });
    // One copy per tick: uncharged, the fuel would last until tick ~1,000,000.
    assert!(out.ticks < 100, "halted at tick {}", out.ticks);
}

/// A model that sends more in one tick than any tick may hold.
fn flood(mut out: MessageWriter<Outbound<Ping>>, mut done: ResMut<Spins>) {
    if done.0 == 0 {
        done.0 = 1;
        for _ in 0..racelab::engine::trace::MAX_EVENTS_PER_TICK + 10 {
            out.write(Outbound(Ping));
        }
    }
}

#[test]
fn a_tick_that_floods_is_halted_by_the_events_per_tick_cap() {
    let mut sim = Sim::custom("flood", FaultPlan::calm(), Limits { max_ticks: 100, max_messages: u64::MAX }, |app| {
        app.add_wire::<Ping>().init_sim_resource::<Spins>();
        app.add_model_systems(flood);
    })
    .expect("builds");
    sim.trace_level(racelab::engine::TraceLevel::Hash);
    let o = sim.seed(0);
    assert_eq!(o.verdict, Verdict::Halted { limit: "max_events_per_tick".into() });
    assert_eq!(o.ticks, 0, "halted on the tick that flooded");
}
