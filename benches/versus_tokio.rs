//! racelab against the test it exists to improve on: the dispose-during-ICE race
//! (`scenarios/dispose_during_ice.toml`, variant `flag_callback`) written the way a Rust
//! engineer would test it today, as a plain tokio program: a `current_thread` runtime with
//! the paused clock, one fresh runtime per seed, a seeded ChaCha8 RNG for every delay, a
//! `BTreeMap` of connections, and the same violation check.
//!
//! The baseline keeps the scenario's timing windows (wire delay 1-10 ticks, an awaited
//! platform call 1-6, 2-4 candidates arriving 1-40 ticks after gathering starts, `dispose()`
//! at 40-120, connects at 10 and 12; one tick is one millisecond of tokio's paused clock) and
//! the code's shape: the server relays, each remote peer answers at once,
//! `_startWebRTCConnection` configures the callback, creates the connection (one awaited
//! I/O), its two data channels and offer (four awaited platform calls), then gathers;
//! `dispose()` cancels the subscription, closes each connection in turn (removed from
//! `_connections`, then three awaited platform calls) and then disposes the client. The
//! callback sends every candidate of a connection that is not closed through the client
//! while the client is connected: a candidate of a connection already removed from
//! `_connections` is the violation (`no_candidate_for_removed_connection`).
//!
//! It is simpler than racelab's model (no cross-type delivery order, no faults beyond
//! delays, tokio's FIFO run queue instead of the tape's choice), so it is a floor: racelab
//! does more per run. Before timing, both are run over the same 300 seeds and must both find
//! the race, so neither side is timing a program that does nothing.
//!
//! `cargo bench --bench versus_tokio` prints the per-run cost of each and their ratio,
//! measured back to back in the same run.

mod support;
use support::interleaved;

use criterion::{Criterion, criterion_group, criterion_main};
use racelab::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;
use tokio::task::{LocalSet, spawn_local, yield_now};
use tokio::time::sleep;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Node {
    Client,
    Server,
    Peer(u8),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Register,
    PairRequest,
    PairResponse,
    PairMatched,
    Offer,
    Answer,
    Candidate,
    RemoteCandidate,
}

#[derive(Clone, Copy, Debug)]
struct Msg {
    kind: Kind,
    peer: u8,
    pc: usize,
}

#[derive(Default)]
struct Pc {
    channels: u8,
    closing: bool,
    closed: bool,
    remote: bool,
}

/// Everything the program shares, behind one `RefCell` (a single-threaded runtime).
struct State {
    rng: ChaCha8Rng,
    connections: BTreeMap<u8, usize>,
    pcs: Vec<Pc>,
    client_connected: bool,
    listening: bool,
    callback: bool,
    remote_pc: BTreeMap<u8, usize>,
    violation: Option<&'static str>,
}

type S = Rc<RefCell<State>>;

fn ticks(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn draw(s: &S, lo: u64, hi: u64) -> u64 {
    s.borrow_mut().rng.random_range(lo..=hi)
}

/// One hop on the wire: delivered 1-10 ticks later.
fn send(s: &S, to: Node, msg: Msg) {
    let delay = draw(s, 1, 10);
    let s = s.clone();
    spawn_local(async move {
        sleep(ticks(delay)).await;
        deliver(&s, to, msg);
    });
}

fn deliver(s: &S, to: Node, msg: Msg) {
    match to {
        Node::Server => match msg.kind {
            Kind::Register => {}
            Kind::PairRequest | Kind::Offer | Kind::Candidate => send(s, Node::Peer(msg.peer), msg),
            Kind::PairResponse => send(s, Node::Client, Msg { kind: Kind::PairMatched, ..msg }),
            Kind::Answer | Kind::RemoteCandidate => send(s, Node::Client, msg),
            Kind::PairMatched => {}
        },
        Node::Peer(p) => match msg.kind {
            Kind::PairRequest => send(s, Node::Server, Msg { kind: Kind::PairResponse, ..msg }),
            Kind::Offer => {
                s.borrow_mut().remote_pc.insert(p, msg.pc);
                send(s, Node::Server, Msg { kind: Kind::Answer, ..msg });
            }
            Kind::Candidate if s.borrow().remote_pc.get(&p) == Some(&msg.pc) => {
                send(s, Node::Server, Msg { kind: Kind::RemoteCandidate, ..msg });
            }
            _ => {}
        },
        Node::Client => {
            if !s.borrow().listening {
                return;
            }
            let s = s.clone();
            match msg.kind {
                Kind::PairMatched => {
                    spawn_local(async move { start_webrtc_connection(&s, msg.peer).await });
                }
                Kind::Answer | Kind::RemoteCandidate => {
                    spawn_local(async move { handle_answer_or_candidate(&s, msg).await });
                }
                _ => {}
            }
        }
    }
}

/// An awaited platform call: 1-6 ticks.
async fn platform(s: &S) {
    let t = draw(s, 1, 6);
    sleep(ticks(t)).await;
}

async fn call(s: &S, pc: usize) -> Result<(), ()> {
    platform(s).await;
    if s.borrow().pcs[pc].closed { Err(()) } else { Ok(()) }
}

async fn start_webrtc_connection(s: &S, peer: u8) {
    s.borrow_mut().callback = true; // _configureSignalingCallback()
    close_connection(s, peer).await;
    platform(s).await; // the connection's creation
    let pc = {
        let mut st = s.borrow_mut();
        st.pcs.push(Pc::default());
        let pc = st.pcs.len() - 1;
        st.connections.insert(peer, pc);
        pc
    };
    for channels in 1..=2 {
        if call(s, pc).await.is_err() {
            return;
        }
        s.borrow_mut().pcs[pc].channels = channels;
    }
    for _ in 0..2 {
        if call(s, pc).await.is_err() {
            return;
        }
    }
    // Gathering: 2-4 candidates, each 1-40 ticks from now.
    let n = draw(s, 2, 4);
    for _ in 0..n {
        let at = draw(s, 1, 40);
        let s = s.clone();
        spawn_local(async move {
            sleep(ticks(at)).await;
            on_ice_candidate(&s, peer, pc);
        });
    }
    if s.borrow().client_connected {
        send(s, Node::Server, Msg { kind: Kind::Offer, peer, pc });
    }
}

/// The callback `dispose()` never clears: it reads the current client.
fn on_ice_candidate(s: &S, peer: u8, pc: usize) {
    let mut st = s.borrow_mut();
    if st.pcs[pc].closed || !st.callback || !st.client_connected {
        return;
    }
    if st.connections.get(&peer) != Some(&pc) && st.violation.is_none() {
        st.violation = Some("no_candidate_for_removed_connection");
    }
    drop(st);
    send(s, Node::Server, Msg { kind: Kind::Candidate, peer, pc });
}

async fn handle_answer_or_candidate(s: &S, msg: Msg) {
    let Some(&pc) = s.borrow().connections.get(&msg.peer) else { return };
    if call(s, pc).await.is_err() {
        return;
    }
    if let Kind::Answer = msg.kind {
        s.borrow_mut().pcs[pc].remote = true;
    }
}

async fn close_connection(s: &S, peer: u8) {
    let Some(pc) = s.borrow_mut().connections.remove(&peer) else {
        yield_now().await;
        return;
    };
    for need in 1..=2 {
        if s.borrow().pcs[pc].channels >= need {
            platform(s).await;
        } else {
            yield_now().await;
        }
    }
    s.borrow_mut().pcs[pc].closing = true;
    platform(s).await;
    s.borrow_mut().pcs[pc].closed = true;
}

async fn dispose(s: &S) {
    s.borrow_mut().listening = false; // the subscription is cancelled
    yield_now().await;
    let peers: Vec<u8> = s.borrow().connections.keys().copied().collect();
    for peer in peers {
        close_connection(s, peer).await;
    }
    // The client's dispose: disconnected at once, then its socket closes.
    s.borrow_mut().client_connected = false;
    yield_now().await;
    let st = &mut *s.borrow_mut();
    if st.pcs.iter().any(|p| !p.closed) && st.violation.is_none() {
        st.violation = Some("no_connection_outlives_dispose");
    }
}

/// One seed, one fresh runtime: the violation it found, if any.
fn tokio_run(seed: u64) -> Option<&'static str> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().expect("a runtime");
    let local = LocalSet::new();
    let s: S = Rc::new(RefCell::new(State {
        rng: ChaCha8Rng::seed_from_u64(seed),
        connections: BTreeMap::new(),
        pcs: Vec::new(),
        client_connected: false,
        listening: true,
        callback: false,
        remote_pc: BTreeMap::new(),
        violation: None,
    }));
    let s2 = s.clone();
    local.block_on(&rt, async move {
        let s = s2;
        let dispose_at = draw(&s, 40, 120);
        // enableExternalConnections at 0: the client connects (one awaited I/O) and registers.
        let c = s.clone();
        spawn_local(async move {
            platform(&c).await;
            c.borrow_mut().client_connected = true;
            send(&c, Node::Server, Msg { kind: Kind::Register, peer: 0, pc: 0 });
        });
        for (at, peer) in [(10, 1u8), (12, 2u8)] {
            let c = s.clone();
            spawn_local(async move {
                sleep(ticks(at)).await;
                if c.borrow().client_connected {
                    send(&c, Node::Server, Msg { kind: Kind::PairRequest, peer, pc: 0 });
                }
            });
        }
        let d = s.clone();
        let disposer = spawn_local(async move {
            sleep(ticks(dispose_at)).await;
            dispose(&d).await;
        });
        let _ = disposer.await;
        // Let what is in flight land (candidates arrive up to 40 ticks after gathering).
        sleep(ticks(200)).await;
    });
    s.borrow().violation
}

fn sim(variant: &str) -> Sim {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml");
    let scenario = Scenario::load(&Registry::builtin(), path).unwrap_or_else(|e| panic!("{e}"));
    Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    // Both sides find the race over the same seeds before anything is timed.
    let tokio_found = (0..300).filter(|&s| tokio_run(s).is_some()).count();
    let mut hashed = sim("flag_callback");
    hashed.trace_level(TraceLevel::Hash);
    let racelab_found = (0..300).filter(|&s| !hashed.seed(s).verdict.is_pass()).count();
    assert!(tokio_found > 0 && racelab_found > 0, "tokio {tokio_found}/300, racelab {racelab_found}/300");
    eprintln!("seeds 0..300 failing: tokio baseline {tokio_found}, racelab {racelab_found}");

    let mut off = sim("flag_callback");
    off.trace_level(TraceLevel::Off).record_tape(false);
    let mut g = c.benchmark_group("dispose_during_ice/flag_callback");
    let mut n = 0;
    g.bench_function("tokio_paused_clock", |b| {
        b.iter(|| {
            n += 1;
            black_box(tokio_run(n))
        })
    });
    let mut n = 0;
    g.bench_function("racelab_trace_hash", |b| {
        b.iter(|| {
            n += 1;
            black_box(hashed.seed(n).ticks)
        })
    });
    let mut n = 0;
    g.bench_function("racelab_trace_off", |b| {
        b.iter(|| {
            n += 1;
            black_box(off.seed(n).ticks)
        })
    });
    g.finish();

    // The ratios, measured in alternating slices in this run.
    let sides = interleaved(
        &mut [
            &mut |s| {
                black_box(tokio_run(s));
            },
            &mut |s| {
                black_box(hashed.seed(s).ticks);
            },
            &mut |s| {
                black_box(off.seed(s).ticks);
            },
        ],
        Duration::from_secs(6),
    );
    let (t, r) = (&sides.per_run, &sides.ratio);
    eprintln!(
        "dispose_during_ice/flag_callback per run ({} alternating rounds): tokio {:.1} us, racelab (trace hash) {:.1} us = {:.2}x, racelab (trace off) {:.1} us = {:.2}x",
        sides.rounds,
        t[0] * 1e6,
        t[1] * 1e6,
        r[1],
        t[2] * 1e6,
        r[2]
    );
    eprintln!(
        "dispose_during_ice/flag_callback runs/s: tokio {:.0}, racelab (trace hash) {:.0}, racelab (trace off) {:.0}",
        1.0 / t[0],
        1.0 / t[1],
        1.0 / t[2]
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
