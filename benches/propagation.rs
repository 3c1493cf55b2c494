//! The propagation core: messages per second through Dispatch -> in flight -> Deliver -> a
//! handler system, for 10,000 endpoints and 1,000,000 messages with delays from the tape,
//! against a hand-written loop doing the same work (same RNG draws, a binary heap, no ECS).
//! Also: runs per second of the `dispose_during_ice` scenario.
//!
//! Read the figures as ratios between functions of one group, measured in the same run.

use bevy_ecs::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use racelab::engine::faults::FaultPlan;
use racelab::engine::order::Picker;
use racelab::engine::schedule::{Stage, TickSchedule};
use racelab::engine::trace::{Args, Describe};
use racelab::engine::wire::{Inbound, Outbound, WirePlugin};
use racelab::engine::{Engine, Id, Limits, Sim, SimApp, TraceLevel};
use racelab::scenario::Scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hint::black_box;

const ENDPOINTS: u64 = 10_000;
const MESSAGES: u64 = 1_000_000;
const PER_TICK: u64 = 10_000;
const DELAY: (u64, u64) = (1, 40);

fn route(k: u64) -> (u64, u64) {
    (k % ENDPOINTS, (k.wrapping_mul(7919) + 1) % ENDPOINTS)
}

fn mix(sum: u64, n: u64) -> u64 {
    sum.wrapping_mul(0x100_0000_01b3).wrapping_add(n)
}

#[derive(Clone, Debug)]
struct Ping {
    from: Id,
    to: Id,
    n: u64,
}

impl Describe for Ping {
    fn label(&self) -> &'static str {
        "ping"
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        Args::EMPTY.u("n", self.n)
    }
}

#[derive(Resource, Default)]
struct Endpoints(Vec<Id>);

#[derive(Resource, Default)]
struct Counters {
    sent: u64,
    received: u64,
    checksum: u64,
}

fn handler(mut inbound: MessageReader<Inbound<Ping>>, mut c: ResMut<Counters>) {
    for m in inbound.read() {
        c.received += 1;
        c.checksum = mix(c.checksum, m.msg.n);
    }
}

fn source(mut c: ResMut<Counters>, eps: Res<Endpoints>, mut out: MessageWriter<Outbound<Ping>>) {
    for _ in 0..PER_TICK.min(MESSAGES - c.sent) {
        let (a, b) = route(c.sent);
        out.write(Outbound(Ping { from: eps.0[a as usize], to: eps.0[b as usize], n: c.sent }));
        c.sent += 1;
    }
}

fn keep_going(c: Res<Counters>, mut engine: ResMut<Engine>) {
    if c.sent < MESSAGES {
        let now = engine.now();
        engine.wake_at(now + 1);
    }
}

fn wire_sim() -> Sim {
    let faults = FaultPlan { delay: DELAY, heal_at: u64::MAX, ..FaultPlan::calm() };
    let limits = Limits { max_ticks: u64::MAX, max_messages: u64::MAX };
    let mut sim = Sim::custom("propagation", faults, limits, |app| {
        let ids: Vec<Id> = (0..ENDPOINTS).map(|i| app.intern(&format!("ep:{i}"))).collect();
        app.insert_resource(Endpoints(ids));
        app.init_resource::<Counters>();
        app.add_plugins(WirePlugin::<Ping>::default());
        app.add_systems(racelab::engine::schedule::SetupSchedule, |mut c: ResMut<Counters>| *c = Counters::default());
        app.add_systems(TickSchedule, (handler, source).chain().in_set(Stage::Model));
        app.add_systems(TickSchedule, keep_going.in_set(Stage::Record));
    })
    .expect("builds");
    sim.trace_level(TraceLevel::Off).record_tape(false);
    sim
}

/// `(due, seq, from, to, payload)`.
type Envelope = (u64, u64, u32, u32, u64);

/// The same work without ECS: a binary heap of envelopes, the same draws from the same
/// ChaCha8 stream in the same order (delivery order, then delays), the same picker.
fn baseline(seed: u64) -> (u64, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut heap: BinaryHeap<Reverse<Envelope>> = BinaryHeap::new();
    let mut link_due: HashMap<(u32, u32), u64> = HashMap::new();
    let mut picker = Picker::default();
    let (mut batch, mut links, mut ordered) = (Vec::new(), Vec::new(), Vec::new());
    let (mut now, mut sent, mut seq, mut received, mut checksum) = (0u64, 0u64, 0u64, 0u64, 0u64);
    loop {
        batch.clear();
        while heap.peek().is_some_and(|Reverse(e)| e.0 <= now) {
            if let Some(Reverse(e)) = heap.pop() {
                batch.push(e);
            }
        }
        ordered.clear();
        if batch.len() > 1 {
            links.clear();
            links.extend(batch.iter().map(|e| (e.2, e.3)));
            let order = picker.order(&links, true, |k, _| rng.random_range(0..k));
            ordered.extend(order.iter().map(|&i| batch[i]));
        } else {
            ordered.extend(batch.iter().copied());
        }
        for e in &ordered {
            received += 1;
            checksum = mix(checksum, e.4);
        }
        for _ in 0..PER_TICK.min(MESSAGES - sent) {
            let (a, b) = route(sent);
            let link = (a as u32, b as u32);
            let delay = DELAY.0 + u64::from(rng.random_range(0..(DELAY.1 - DELAY.0 + 1) as u32));
            let last = link_due.entry(link).or_insert(0);
            let due = (now + delay).max(*last);
            *last = due;
            heap.push(Reverse((due, seq, link.0, link.1, sent)));
            seq += 1;
            sent += 1;
        }
        now = match (sent < MESSAGES, heap.peek()) {
            (true, _) => now + 1,
            (false, Some(Reverse(e))) => e.0.max(now + 1),
            (false, None) => break,
        };
    }
    (received, checksum)
}

fn propagation(c: &mut Criterion) {
    // Same work: both deliver every message, in the same order.
    let mut sim = wire_sim();
    let out = sim.seed(1);
    let counters = sim.world().resource::<Counters>();
    let ecs = (counters.received, counters.checksum);
    assert_eq!(ecs, baseline(1), "the ECS wire and the baseline do the same work ({out:?})");
    assert_eq!(ecs.0, MESSAGES);

    let mut group = c.benchmark_group("propagation");
    group.throughput(Throughput::Elements(MESSAGES));
    group.sample_size(10);
    group.bench_function("ecs_wire_10k_endpoints_1m_messages", |b| b.iter(|| black_box(sim.seed(1).messages)));
    group.bench_function("baseline_loop_10k_endpoints_1m_messages", |b| b.iter(|| black_box(baseline(1))));
    group.finish();
}

fn scenario_runs(c: &mut Criterion) {
    let scenario = Scenario::load(
        &racelab::engine::Registry::builtin(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"),
    )
    .expect("loads");
    let mut group = c.benchmark_group("scenario");
    group.throughput(Throughput::Elements(1));
    for (variant, level) in
        [("flag_callback", TraceLevel::Off), ("flag_callback", TraceLevel::Hash), ("stream", TraceLevel::Off)]
    {
        let mut sim = Sim::new(&scenario, variant).expect("builds");
        sim.trace_level(level).record_tape(false);
        let mut seed = 0u64;
        group.bench_function(format!("dispose_during_ice_{variant}_trace_{level:?}"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(sim.seed(seed).ticks)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, propagation, scenario_runs);
criterion_main!(benches);
