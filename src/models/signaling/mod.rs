//! WebRTC signaling callbacks (seed 004) in the Flutter app whose code the seed quotes:
//! `Hamza-Labs-Core/zajel`, `packages/app/lib/core/network/{connection_manager,
//! signaling_client,webrtc_service}.dart`. The seed's line numbers match commit `4af3c998`;
//! commit `bb400e41` ("fix(dart): address callback race condition and null safety issues")
//! is the fix that shipped. The model follows the code statement by statement where the seed
//! quotes it or is silent, and the seed's own text for its proposed solutions.
//!
//! # Layout
//!
//! - [`manager`]: `ConnectionManager`'s methods, one `async fn` each ([`dart`] explains
//!   how each `await` maps onto the engine: I/O and platform calls wait a window from the
//!   tape, an already-complete future goes on at once);
//! - [`client`]: `SignalingClient`; [`webrtc`]: `WebRTCService` and the platform's events;
//! - [`heap`]: the app's objects and fields; [`relay`]: servers and remote peers;
//! - [`invariants`]: what the code is held to.
//!
//! # The modelled statements
//!
//! `dispose()` (connection_manager.dart:211-223):
//!
//! | line | statement | modelled as |
//! |---|---|---|
//! | 212 | `await _signalingSubscription?.cancel();` | the subscription delivers nothing from now; a microtask |
//! | 213-214 | `_signalingSubscription = null; _signalingCallbackConfigured = false;` | fields; `onSignalingMessage` is not cleared |
//! | 215 | `await _webrtcService.dispose();` | awaited: `closeConnection` for each peer of a snapshot of `_connections` (webrtc_service.dart:237-241), each removing the connection (:228) then awaiting two data-channel closes and `pc.close()` (:230-232), platform calls during which ICE may still fire |
//! | 216 | `await _signalingClient?.dispose();` | `disconnect()` -> `_cleanupConnection()`, which sets `_isConnected = false` before its first await (signaling_client.dart:98), then the socket's close (I/O) |
//! | 217-222 | the manager's controllers close | microtasks |
//!
//! `disableExternalConnections()` (:109-116):
//!
//! | line | statement | modelled as |
//! |---|---|---|
//! | 110 | `await _signalingClient?.disconnect();` | `_isConnected = false` at once (signaling_client.dart:98), the socket's subscription cancelled (:100-102, microtask), then `await channel?.sink.close()` (:106, I/O): other events run meanwhile |
//! | 111 | `await _signalingSubscription?.cancel();` | cancels whatever subscription the field holds now; a microtask |
//! | 112-115 | `_signalingSubscription = null; _signalingClient = null; _externalPairingCode = null; _signalingCallbackConfigured = false;` | synchronous: nothing runs between them (Scenario 4's window does not exist) |
//!
//! Solution 2 puts `await _signalingMessageSubscription?.cancel(); = null;` first; Solution 3
//! puts `_callbackVersion++;` first; the seed's "rest of cleanup" is :110-115. bb400e41
//! cancels `_signalingEventsSubscription` then `_signalingSubscription` (microtasks), awaits
//! `state.client.dispose()` (I/O), then sets `_signalingState = SignalingDisconnected()`.
//!
//! `enableExternalConnections()` (:84-106):
//!
//! | line | statement | modelled as |
//! |---|---|---|
//! | 89-90 | `await _signalingSubscription?.cancel(); _signalingSubscription = null;` | a microtask; the previous client is neither disconnected nor disposed |
//! | 92-98 | `_externalPairingCode = ...; _signalingClient = SignalingClient(...)` | a new client (its pairing code is its id) in the field, before connecting |
//! | 100-101 | `_signalingSubscription = _signalingClient!.messages.listen(_handleSignalingMessage);` | a subscription to the new client's messages |
//! | 103 | `await _signalingClient!.connect();` | `_channel = connect(...)`, `await _channel!.ready` (I/O), then `_channel!.stream.listen`, `_isConnected = true`, `register` (signaling_client.dart:53-87); if `_cleanupConnection` nulled `_channel` meanwhile, the null check throws and `connect` rethrows |
//! | 105 | `return _externalPairingCode!;` | throws if an overlapping disable nulled the code |
//!
//! Solution 2 subscribes `_signalingMessageSubscription` after :101 ("existing code"), before
//! :103 ("rest of code"), without cancelling an earlier one. bb400e41 cancels both
//! subscriptions, sets `_signalingState` to the new client before connecting, subscribes to
//! `client.messages` and `signalingEvents`, awaits `client.connect()` and returns a local.
//!
//! The rest of the flow comes from the same code: `connectToExternalPeer` only sends
//! `pair_request` (:120-138); the server answers `pair_matched` with the requester as the
//! initiator; `_handleSignalingMessage` (:249-330) then awaits `_startWebRTCConnection`
//! (:152-166), which configures the callback and awaits `createOffer` (five platform calls,
//! webrtc_service.dart:66-80, ICE gathering starting at `setLocalDescription`) before
//! `_signalingClient!.sendOffer`. Answers and remote candidates go through
//! `_handleSignalingMessage` to `handleAnswer`/`addIceCandidate` (:105-137), which look the
//! connection up by peer. The app never answers an incoming offer in these scenarios (the
//! remote peers never request pairing), so the non-initiator path (:289-308) is not modelled.
//!
//! # Where the model still chooses
//!
//! - An already-complete future resumes in the same step (`[signaling] microtask =
//!   "inline"`, Dart's microtask semantics; see [`dart`]); `"tick"` resumes one tick later.
//!   Every shipped signaling scenario breaks the same set of invariants, variant by
//!   variant, under either setting (`tests/signaling_model.rs` holds it), so the choice
//!   changes no verdict and stays a file option rather than a variant.
//! - Platform calls and socket handshakes/closes take a window from the tape (`await`).
//! - A remote peer is reachable only through the servers in `peers_on` (default: the
//!   server of the file's first `enable_external`).
//! - ICE connects once the answer and one remote candidate are applied and the remote has
//!   one of ours; no ICE timeout (a connection without an answer stays `new`, as WebRTC's does).
//! - A network change drops connected transports and gathers a new round of candidates.
//! - `state_machine`: which operations it buffers and how an enable while enabled is
//!   handled (through disable) are this model's reading of the seed's three lines.

pub mod actions;
pub mod client;
pub mod dart;
pub mod heap;
pub mod invariants;
pub mod manager;
pub mod relay;
pub mod signal;
pub mod webrtc;

use crate::engine::Engine;
use crate::engine::app::SimApp;
use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc, Variants};
use crate::engine::schedule::{FinishSchedule, FinishStage, SetupSchedule, SetupStage, Stage, TickSchedule};
use crate::engine::script::Act;
use crate::engine::timers::{Fired, Timers};
use crate::engine::trace::{Args, Describe, EventKind};
use crate::engine::wire::{Inbound, Outbound};
use crate::engine::{Id, Names, SimWorld, StepInput, Violation};
use crate::scenario::{Scenario, ScenarioError};
use actions::{Action, Command};
use bevy_app::App;
use bevy_ecs::prelude::*;
use client::Thrown;
use dart::Dart;
use heap::{Heap, Out, P};
use relay::{Remote, Server};
use signal::{Signal, Wake};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

/// The variants: the seed's code, its three solutions, the fix that shipped, the patterns
/// its research recommends, and one counterfactual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The seed's code (`4af3c998`): one `onSignalingMessage` callback, configured once
    /// behind `_signalingCallbackConfigured`, reading `_signalingClient` when it runs.
    FlagCallback,
    /// Solution 1, as the seed writes it: `_signalingCallbacks[peerId]`, registered in
    /// `_startWebRTCConnection`, unregistered in `disconnectPeer`.
    PerPeerMap,
    /// Solution 2, as the seed writes it: `_signalingController` broadcast stream;
    /// `_signalingMessageSubscription` made in enable, cancelled first in disable; the
    /// controller closed at the end of `WebRTCService.dispose()`.
    Stream,
    /// Solution 3, as the seed writes it: the callback captures `++_callbackVersion` and
    /// `_signalingClient`; disable bumps the version first.
    VersionToken,
    /// The fix that shipped (`bb400e41`): `signalingEvents` subscribed per enable and
    /// cancelled in enable, disable and dispose; `_signalingState` sealed class; the client
    /// captured in `_startWebRTCConnection`.
    ShippedStream,
    /// Signal's fix (seed research 1, PR #13820): each connection is handed the signaling
    /// client it was started with and sends its candidates through that client only.
    InjectedClient,
    /// Telegram's pattern (seed research 2): each negotiation gets a request id; its handler
    /// is registered under the id, answers and candidates are dispatched by id, and the
    /// handler ends with its connection.
    RequestMap,
    /// The WebRTC state machine (seed research 6): lifecycle operations run one at a time,
    /// one arriving during a transition is buffered until it ends, an enable while enabled
    /// goes through disabling, and closing or removed connections forward nothing.
    StateMachine,
    /// Counterfactual (seed 004, Scenario 2, step 4): the seed's code with
    /// `_webrtcService.dispose()` started but not awaited in `dispose()`.
    DisposeUnawaited,
}

/// The variants, by name, each with what it models.
pub const VARIANTS: Variants<Variant> = Variants::new(
    "signaling",
    &[
        (
            Variant::FlagCallback,
            "flag_callback",
            "the seed's code (4af3c998): one callback behind _signalingCallbackConfigured, reading _signalingClient when it runs",
        ),
        (
            Variant::PerPeerMap,
            "per_peer_map",
            "Solution 1 as written: per-peer callbacks registered in _startWebRTCConnection, removed only by disconnectPeer",
        ),
        (
            Variant::Stream,
            "stream",
            "Solution 2 as written: a signalingMessages subscription made in enable, cancelled first in disable (not in dispose)",
        ),
        (
            Variant::VersionToken,
            "version_token",
            "Solution 3 as written: the callback captures ++_callbackVersion and the client; disable bumps the version first",
        ),
        (
            Variant::ShippedStream,
            "shipped_stream",
            "the fix that shipped (bb400e41): signalingEvents subscription per enable, cancelled in enable/disable/dispose; _signalingState; client captured per connection start",
        ),
        (
            Variant::InjectedClient,
            "injected_client",
            "Signal's fix: each connection is handed its signaling client and sends its candidates through it only",
        ),
        (
            Variant::RequestMap,
            "request_map",
            "Telegram's pattern: a handler per request id, responses dispatched by id, the handler removed with its connection",
        ),
        (
            Variant::StateMachine,
            "state_machine",
            "connection state machine: lifecycle operations one at a time, buffered during transitions; closing connections forward nothing",
        ),
        (
            Variant::DisposeUnawaited,
            "dispose_unawaited",
            "counterfactual: the seed's code with _webrtcService.dispose() not awaited (Scenario 2's reading)",
        ),
    ],
);

/// Timing and topology, from the scenario's `[signaling]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// How long an awaited I/O future or platform call takes, in ticks.
    pub await_ticks: (u64, u64),
    /// How many candidates an ICE gathering round produces.
    pub ice_count: (u64, u64),
    /// When each candidate comes, in ticks after gathering starts.
    pub ice_delay: (u64, u64),
    /// `connect_settles` deadline, in ticks after heal.
    pub settle_deadline: u64,
    /// `microtask = "tick"`: an already-complete future resumes a tick later.
    pub microtask_ticks: bool,
    /// The servers remote peers are registered with (empty: the first enabled server).
    pub peers_on: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            await_ticks: (1, 4),
            ice_count: (1, 3),
            ice_delay: (1, 30),
            settle_deadline: 300,
            microtask_ticks: false,
            peers_on: Vec::new(),
        }
    }
}

const FIELDS: &[&str] = &["await", "ice_candidates", "ice_delay", "settle_deadline", "microtask", "peers_on"];

/// The most ICE candidates one connection may gather (`ice_candidates`): each is an entity,
/// a timer and messages, so the count decides a run's memory.
pub const MAX_ICE_CANDIDATES: u64 = 1_000;
/// The longest delay or deadline, in ticks, `[signaling]` accepts (`await`, `ice_delay`,
/// `settle_deadline`).
pub const MAX_TICKS_FIELD: u64 = 1_000_000;

fn parse_params(scenario: &Scenario) -> Result<Params, ScenarioError> {
    let src = &scenario.source;
    let mut p = Params::default();
    let Some(v) = scenario.doc.get("signaling") else {
        return Ok(p);
    };
    let t = v.table(src, "signaling")?;
    t.deny_unknown(src, "`[signaling]`", FIELDS)?;
    if let Some(v) = t.get("await") {
        p.await_ticks = v.range_max(src, "await", MAX_TICKS_FIELD)?;
        if p.await_ticks.0 == 0 {
            return Err(src.error(
                v.span.clone(),
                "`await` must start at 1: awaited I/O resumes on a later tick (an already-complete future is `microtask`)",
            ));
        }
    }
    if let Some(v) = t.get("ice_candidates") {
        p.ice_count = v.range_max(src, "ice_candidates", MAX_ICE_CANDIDATES)?;
    }
    if let Some(v) = t.get("ice_delay") {
        p.ice_delay = v.range_max(src, "ice_delay", MAX_TICKS_FIELD)?;
        if p.ice_delay.0 == 0 {
            return Err(src.error(v.span.clone(), "`ice_delay` must start at 1"));
        }
    }
    if let Some(v) = t.get("settle_deadline") {
        p.settle_deadline = v.uint_max(src, "settle_deadline", MAX_TICKS_FIELD)?;
    }
    if let Some(v) = t.get("microtask") {
        p.microtask_ticks = match v.str(src, "microtask")? {
            "inline" => false,
            "tick" => true,
            other => {
                return Err(src.error(
                    v.span.clone(),
                    format!("unknown microtask timing `{other}`; expected one of: inline, tick"),
                ));
            }
        };
    }
    if let Some(v) = t.get("peers_on") {
        p.peers_on = v.strings(src, "peers_on")?.into_iter().map(|(s, _)| s).collect();
    }
    Ok(p)
}

/// The scenario as this model reads it, parsed once.
#[derive(Clone, Debug)]
struct Config {
    params: Params,
    cast: Cast,
    steps: Vec<(crate::scenario::At, Command)>,
    names: Names,
}

/// Who takes part: the app, every server and peer the steps name, and where peers are.
#[derive(Resource, Clone, Debug, Default)]
struct Cast {
    app: Id,
    servers: Vec<Id>,
    peers: Vec<Id>,
    peers_on: Vec<Id>,
}

/// The model (registered in `crate::models`).
pub struct Signaling;

impl Model for Signaling {
    fn name(&self) -> &'static str {
        "signaling"
    }

    fn about(&self) -> &'static str {
        "WebRTC signaling in a Flutter app's ConnectionManager (seed 004, zajel 4af3c998 and its fix bb400e41), the proposed fixes and researched patterns"
    }

    fn steps(&self) -> &'static [StepDoc] {
        actions::STEPS
    }

    fn sections(&self) -> &'static [&'static str] {
        &["signaling"]
    }

    fn variant_docs(&self, _scenario: Option<&Scenario>) -> Vec<VariantDoc> {
        VARIANTS.docs()
    }

    fn invariants(&self, _scenario: Option<&Scenario>) -> Vec<String> {
        invariants::ALL.iter().map(|s| (*s).to_owned()).collect()
    }

    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        let params = parse_params(scenario)?;
        let mut cast = Cast::default();
        let mut steps = Vec::new();
        let mut names = Names::default();
        cast.app = names.intern("app");
        for step in &scenario.steps {
            let action = actions::parse(scenario, step, &mut names)?;
            match &action {
                Action::EnableExternal(s) | Action::SwitchServer(s) if !cast.servers.contains(s) => {
                    cast.servers.push(*s)
                }
                Action::Connect(p) | Action::Disconnect(p) | Action::FailPeer(p) if !cast.peers.contains(p) => {
                    cast.peers.push(*p)
                }
                Action::ReconnectLoop(s, p, _) => {
                    if !cast.servers.contains(s) {
                        cast.servers.push(*s);
                    }
                    if !cast.peers.contains(p) {
                        cast.peers.push(*p);
                    }
                }
                _ => {}
            }
            steps.push((step.at, Command { by: cast.app, action }));
        }
        for s in &params.peers_on {
            let id = actions::server_id(&mut names, s);
            if !cast.servers.contains(&id) {
                cast.servers.push(id);
            }
            cast.peers_on.push(id);
        }
        if cast.peers_on.is_empty() {
            cast.peers_on.extend(cast.servers.first().copied());
        }
        Ok(ModelConfig::new(Config { params, cast, steps, names }))
    }

    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let v = VARIANTS.parse(scenario, variant)?;
        let Config { params, cast, steps, names } = scenario.config::<Config>().clone();
        // The ids were interned in file order while configuring: the app numbers them alike.
        app.world_mut().resource_mut::<Engine>().names = names;
        app.insert_resource(Setting { variant: v, params });
        app.insert_resource(cast);
        app.insert_resource(Runtime::new(Heap::new(v, Params::default(), Id::NONE)));
        app.add_script(steps).add_wire::<Signal>().add_timers::<Wake>();
        app.add_systems(SetupSchedule, setup.in_set(SetupStage::Model));
        // One system per step, not three: the Dart code is one event loop over one heap, so
        // reading its inputs, running it and updating the liveness monitor from its state
        // are one piece of work (a step without input changes no state to monitor).
        app.add_systems(TickSchedule, process.in_set(Stage::Model));
        app.add_systems(FinishSchedule, invariants::check_end.in_set(FinishStage::Check));
        Ok(())
    }
}

/// The variant and the parameters (fixed for a simulation).
#[derive(Resource, Clone, Debug)]
struct Setting {
    variant: Variant,
    params: Params,
}

/// The app's Dart heap and its tasks (a fresh one every run), lent to the Dart code for each
/// step ([`dart::lend`]). The mutex only makes the resource `Sync` (the tasks are `Send`, not
/// `Sync`): the model reaches the heap through `get_mut`, which takes no lock.
#[derive(Resource)]
pub struct Runtime(Mutex<Option<Box<Heap>>>);

impl Runtime {
    fn new(heap: Heap) -> Self {
        Runtime(Mutex::new(Some(Box::new(heap))))
    }

    /// Run Dart code on the heap, lent to it for the call ([`dart::lend`]) and back in place
    /// after.
    fn run<R>(&mut self, f: impl FnOnce(Dart) -> R) -> R {
        let slot = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        let heap = slot.take().expect("the heap is back between steps");
        let (heap, r) = dart::lend(heap, || f(Dart));
        *slot = Some(heap);
        r
    }

    /// Read the heap between steps (end-of-run checks).
    pub fn inspect<R>(&self, f: impl FnOnce(&Heap) -> R) -> R {
        let heap = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(heap.as_ref().expect("the heap is back between steps"))
    }
}

/// This step's inputs, in the order the model handles them (drained every step; kept for
/// the capacity of its lists).
#[derive(Default)]
struct Inbox {
    acts: Vec<Command>,
    wakes: Vec<Wake>,
    signals: Vec<Signal>,
    /// Signals for the far side (servers, remote peers), and the Dart code's effects:
    /// kept here for their capacity, so a step allocates neither.
    far: Vec<Signal>,
    out: Vec<Out>,
    /// The step's timer operations, sends and violations, in order (see [`apply`]).
    timer_ops: Vec<TimerOp>,
    sends: Vec<Signal>,
    violations: Vec<Violation>,
    /// The timing parameters (fixed for a simulation), read on the first step.
    timing: Option<Timing>,
}

/// The tape's windows for an awaited call, the number of ICE candidates and their delays.
#[derive(Clone, Copy)]
struct Timing {
    await_ticks: (u64, u64),
    ice_count: (u64, u64),
    ice_delay: (u64, u64),
}

/// A change to the pending timers, applied in the order the Dart code asked for it.
enum TimerOp {
    Arm(u64, Wake),
    CancelIce(P),
}

/// Spawn servers and remote peers; a fresh app.
fn setup(world: &mut World) {
    let cast = world.resource::<Cast>().clone();
    let Setting { variant, params } = world.resource::<Setting>().clone();
    let deadline = params.settle_deadline;
    for &id in &cast.servers {
        let peers = if cast.peers_on.contains(&id) { cast.peers.clone() } else { Vec::new() };
        world.spawn((id, Server { id, clients: Vec::new(), peers }));
    }
    for &id in &cast.peers {
        world.spawn((id, Remote { id, pc: None, partner: (Id::NONE, Id::NONE), early: Vec::new() }));
    }
    world.insert_resource(Runtime::new(Heap::new(variant, params, cast.app)));
    world.engine_mut().monitors.declare(invariants::SETTLES, deadline);
}

/// The step's inputs: read through the engine, which knows which of them it wrote on the
/// step (a step hands over one batch of one source), so only those buffers are fetched.
#[derive(FromWorld)]
struct Inputs {
    acts: StepInput<Act<Command>>,
    fired: StepInput<Fired<Wake>>,
    inbound: StepInput<Inbound<Signal>>,
}

/// Run the Dart code for this step's inputs (scripted steps first, then what the agenda
/// handed over), then apply its effects; messages to servers and remote peers go to the
/// far side, and the liveness monitor hears what changed on the heap.
fn process(world: &mut World, mut inputs: Local<Inputs>, mut inbox: Local<Inbox>) {
    {
        let engine = world.resource::<Engine>();
        let (inputs, inbox) = (&mut *inputs, &mut *inbox);
        inbox.acts.extend(inputs.acts.read(world, engine).map(|a| a.action.clone()));
        inbox.wakes.extend(inputs.fired.read(world, engine).map(|f| f.0));
        inbox.signals.extend(inputs.inbound.read(world, engine).map(|i| i.msg));
    }
    if inbox.acts.is_empty() && inbox.wakes.is_empty() && inbox.signals.is_empty() {
        return;
    }
    // The Dart code names new objects ("client#2", "pc:P1#3") as it makes them.
    let (names, tracing) = {
        let mut engine = world.engine_mut();
        (engine.names.take(), engine.tracing())
    };
    let timing = *inbox.timing.get_or_insert_with(|| {
        let p = &world.resource::<Setting>().params;
        Timing { await_ticks: p.await_ticks, ice_count: p.ice_count, ice_delay: p.ice_delay }
    });
    // The Dart code touches nothing but the heap, so it runs inside one look-up of the
    // runtime; its effects on the world are applied after.
    let (names, settles) = world.resource_mut::<Runtime>().run(|d| dart_step(d, &mut inbox, names, tracing));
    let Inbox { far, out, timer_ops, sends, violations, .. } = &mut *inbox;
    apply(world, names, out, (timer_ops, sends, violations), timing, settles);
    for s in far.drain(..) {
        relay::receive(world, s);
    }
}

/// One step of the Dart code on the heap lent for it, with the engine's `names`: the inputs
/// in `inbox`; signals for the far side are left in `inbox.far` and the step's effects in
/// `inbox.out`. Gives back the names, and what the liveness monitor must hear.
fn dart_step(d: Dart, inbox: &mut Inbox, names: Names, tracing: bool) -> (Names, Option<Vec<(Id, bool)>>) {
    d.with(|h| {
        h.names.put_back(names);
        h.tracing = tracing;
    });
    for cmd in inbox.acts.drain(..) {
        act(&d, cmd.action);
    }
    for w in inbox.wakes.drain(..) {
        match w {
            Wake::Resume(t) => d.resume(t),
            Wake::Chain(p) => {
                if let Some(t) = d.with(|h| h.chain_done(p)) {
                    d.resume(t);
                }
            }
            Wake::Ice(p) => webrtc::on_ice_candidate(&d, p),
        }
    }
    let Inbox { signals, far, out, .. } = inbox;
    for s in signals.drain(..) {
        match d.with(|h| h.client_by_id(s.to)) {
            Some(c) => client::on_message(&d, c, s),
            None => far.push(s),
        }
    }
    let names = d.with(|h| {
        std::mem::swap(&mut h.out, out);
        h.names.take()
    });
    (names, invariants::settles(&d))
}

/// Apply the step's effects in the order the Dart code produced them. Those on the engine
/// (tape draws, trace events, counts, then the liveness report `settles`) share one
/// look-up; timer operations, sends and violations are kept in order and applied after it,
/// one look-up per kind: each kind has a buffer of its own, so only the order within a kind
/// matters.
fn apply(
    world: &mut World,
    names: Names,
    out: &mut Vec<Out>,
    (timer_ops, sends, violations): (&mut Vec<TimerOp>, &mut Vec<Signal>, &mut Vec<Violation>),
    timing: Timing,
    settles: Option<Vec<(Id, bool)>>,
) {
    let now = {
        let mut engine = world.engine_mut();
        let e = &mut *engine;
        e.names.put_back(names);
        let tracing = e.tracing();
        for o in out.drain(..) {
            match o {
                Out::ArmIo(w) => {
                    let (lo, hi) = timing.await_ticks;
                    timer_ops.push(TimerOp::Arm(e.tape.range("await", lo, hi), w));
                }
                Out::Arm(t, w) => timer_ops.push(TimerOp::Arm(t, w)),
                Out::Gather(p, id) => {
                    let (lo, hi) = timing.ice_count;
                    let n = e.tape.range("ice.count", lo, hi);
                    let (dlo, dhi) = timing.ice_delay;
                    for _ in 0..n {
                        timer_ops.push(TimerOp::Arm(e.tape.range("ice.delay", dlo, dhi), Wake::Ice(p)));
                    }
                    if tracing {
                        e.trace_event(EventKind::Note, id, "gathering", Id::NONE, Args::EMPTY.u("candidates", n));
                    }
                }
                Out::CancelIce(p) => timer_ops.push(TimerOp::CancelIce(p)),
                Out::Send(s) => sends.push(s),
                Out::Trace(kind, actor, what, other, args) => {
                    if tracing {
                        e.trace_event(kind, actor, what, other, args);
                    }
                }
                Out::Count(name) => e.count(name, 1),
                Out::Violate(invariant, detail, ids) => violations.push(Violation { invariant, detail, ids }),
            }
        }
        for (peer, hot) in settles.into_iter().flatten() {
            e.monitor(invariants::SETTLES, peer, hot);
        }
        e.clock.now
    };
    if !timer_ops.is_empty() {
        let mut timers = world.resource_mut::<Timers<Wake>>();
        for op in timer_ops.drain(..) {
            match op {
                TimerOp::Arm(delay, w) => timers.after(now, delay, w),
                TimerOp::CancelIce(p) => timers.retain(|w| *w != Wake::Ice(p)),
            }
        }
    }
    if !sends.is_empty() {
        world.write_message_batch(sends.drain(..).map(Outbound));
    }
    if !violations.is_empty() {
        world.write_message_batch(violations.drain(..));
    }
}

/// A scripted step: a user action calls a manager method (nobody awaits it: steps overlap
/// as quick taps do), or the platform reports an event.
fn act(d: &Dart, action: Action) {
    let label = action.label();
    let d2 = *d;
    match action {
        Action::EnableExternal(s) => call(d, label, async move { manager::enable_external_connections(&d2, s).await }),
        Action::DisableExternal => call(d, label, async move { manager::disable_external_connections(&d2).await }),
        Action::Connect(p) => call(d, label, async move { manager::connect_to_external_peer(&d2, p).await }),
        Action::Disconnect(p) => call(d, label, async move { manager::disconnect_peer(&d2, p).await }),
        Action::Dispose => call(d, label, async move { manager::dispose(&d2).await }),
        // The settings screen's toggle: `await disable(); await enable(url)`.
        Action::SwitchServer(s) => call(d, label, async move {
            manager::disable_external_connections(&d2).await?;
            manager::enable_external_connections(&d2, s).await
        }),
        Action::ReconnectLoop(s, p, n) => call(d, label, async move {
            for _ in 0..n {
                manager::enable_external_connections(&d2, s).await?;
                manager::connect_to_external_peer(&d2, p).await?;
                manager::disable_external_connections(&d2).await?;
            }
            Ok(())
        }),
        Action::FailPeer(p) => webrtc::fail(d, p),
        Action::NetworkChange => webrtc::network_change(d),
    }
}

/// Start a method call as a task; what it throws reaches the UI (traced, counted).
fn call(d: &Dart, what: &'static str, fut: impl Future<Output = Result<(), Thrown>> + Send + 'static) {
    let d2 = *d;
    d.spawn(async move {
        if let Err(e) = fut.await {
            d2.with(|h| {
                h.count("signaling.calls_threw");
                let app = h.app;
                h.trace(EventKind::Note, app, what, Id::NONE, Args::EMPTY.s("threw", e.name()));
            });
        }
    });
}
