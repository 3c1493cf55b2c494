//! WebRTC signaling callbacks (seed 004): a Flutter app's `ConnectionManager` routes ICE
//! candidates from its peer connections to a signaling client through a callback, and the
//! proposed fixes route them differently. Each variant is modelled statement by statement
//! from the seed's code, every Dart `await` a point where other events may run.
//!
//! Where the seed does not quote code (the bodies of `dispose()`, `connect()`), the model
//! follows the seed's own narrative and the SignalingClient of the same code base:
//! `disconnect()` clears `_isConnected` at once; `dispose()` marks the client disposed and
//! its socket closes asynchronously (`isConnected` turns false only when the close
//! completes); `ConnectionManager.dispose()` resets the flag, starts `_webrtcService.dispose()`
//! without awaiting it (seed, Scenario 2) and disposes the client; `pc.close()` completes
//! asynchronously and the platform may deliver ICE events until it has.

pub mod actions;
pub mod components;
pub mod cx;
pub mod invariants;
pub mod manager;
pub mod relay;
pub mod signal;
pub mod webrtc;

use crate::engine::app::SimApp;
use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc, Variants};
use crate::engine::schedule::{FinishSchedule, FinishStage, SetupSchedule, SetupStage, Stage, TickSchedule};
use crate::engine::script::Act;
use crate::engine::timers::Fired;
use crate::engine::wire::Inbound;
use crate::engine::{Id, Monitors, Names};
use crate::scenario::{Scenario, ScenarioError};
use actions::{Action, Command};
use bevy_app::App;
use bevy_ecs::prelude::*;
use components::{Remote, Server};
use signal::{Signal, Wake};

/// The variants: the seed's code and its proposed fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The current code: one callback guarded by `_signalingCallbackConfigured`.
    FlagCallback,
    /// Solution 1: a callback per peer, removed on `disconnectPeer`.
    PerPeerMap,
    /// Solution 2: one stream subscription per enable, cancelled on disable and dispose.
    Stream,
    /// Solution 3: the callback captures version and client; disable bumps the version.
    VersionToken,
    /// The reference design the research points to: connections bound to their session.
    SessionBound,
}

/// The variants, by name, each with what it models.
pub const VARIANTS: Variants<Variant> = Variants::new(
    "signaling",
    &[
        (
            Variant::FlagCallback,
            "flag_callback",
            "current code: one callback guarded by _signalingCallbackConfigured, reading the current client",
        ),
        (
            Variant::PerPeerMap,
            "per_peer_map",
            "Solution 1: per-peer callbacks registered on connect, removed on disconnectPeer",
        ),
        (
            Variant::Stream,
            "stream",
            "Solution 2: one signalingMessages subscription per enable, cancelled on disable and dispose",
        ),
        (
            Variant::VersionToken,
            "version_token",
            "Solution 3: callback captures version and client; disable bumps the version",
        ),
        (
            Variant::SessionBound,
            "session_bound",
            "reference design: each connection bound to the session it started under, closed with it",
        ),
    ],
);

/// The variant in force (a resource).
#[derive(Resource, Clone, Copy, Debug)]
pub struct VariantRes(pub Variant);

/// Timing of the platform, from the scenario's `[signaling]` section.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// How long an awaited platform future takes, in ticks.
    pub await_ticks: (u64, u64),
    /// How many candidates an ICE gathering round produces.
    pub ice_count: (u64, u64),
    /// When each candidate comes, in ticks after gathering starts.
    pub ice_delay: (u64, u64),
    /// `connect_settles` deadline, in ticks after heal.
    pub settle_deadline: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params { await_ticks: (1, 4), ice_count: (1, 3), ice_delay: (1, 30), settle_deadline: 300 }
    }
}

fn parse_params(scenario: &Scenario) -> Result<Params, ScenarioError> {
    let src = &scenario.source;
    let mut p = Params::default();
    let Some(v) = scenario.doc.get("signaling") else {
        return Ok(p);
    };
    let t = v.table(src, "signaling")?;
    t.deny_unknown(src, "`[signaling]`", &["await", "ice_candidates", "ice_delay", "settle_deadline"])?;
    if let Some(v) = t.get("await") {
        p.await_ticks = v.range(src, "await")?;
        if p.await_ticks.0 == 0 {
            return Err(
                src.error(v.span.clone(), "`await` must start at 1: an awaited platform call resumes on a later tick")
            );
        }
    }
    if let Some(v) = t.get("ice_candidates") {
        p.ice_count = v.range(src, "ice_candidates")?;
    }
    if let Some(v) = t.get("ice_delay") {
        p.ice_delay = v.range(src, "ice_delay")?;
        if p.ice_delay.0 == 0 {
            return Err(src.error(v.span.clone(), "`ice_delay` must start at 1"));
        }
    }
    if let Some(v) = t.get("settle_deadline") {
        p.settle_deadline = v.uint(src, "settle_deadline")?;
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

/// Who takes part: the app, and every server and peer the steps name.
#[derive(Resource, Clone, Debug, Default)]
struct Cast {
    app: Id,
    servers: Vec<Id>,
    peers: Vec<Id>,
}

/// The model (registered in `crate::models`).
pub struct Signaling;

impl Model for Signaling {
    fn name(&self) -> &'static str {
        "signaling"
    }

    fn about(&self) -> &'static str {
        "WebRTC signaling callbacks of a Flutter app's ConnectionManager (seed 004) and the proposed fixes"
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
                _ => {}
            }
            steps.push((step.at, Command { by: cast.app, action }));
        }
        Ok(ModelConfig::new(Config { params, cast, steps, names }))
    }

    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let v = VARIANTS.parse(scenario, variant)?;
        let Config { params, cast, steps, names } = scenario.config::<Config>().clone();
        // The ids were interned in file order while configuring: the app numbers them alike.
        app.insert_resource(names);
        app.insert_resource(VariantRes(v));
        app.insert_resource(params);
        app.insert_resource(cast);
        app.init_resource::<manager::Manager>();
        app.init_resource::<invariants::Facts>();
        app.init_resource::<Inbox>();
        app.add_script(steps).add_wire::<Signal>().add_timers::<Wake>();
        app.add_systems(SetupSchedule, setup.in_set(SetupStage::Model));
        app.add_systems(TickSchedule, (collect, process).chain().in_set(Stage::Model));
        app.add_systems(
            TickSchedule,
            (invariants::check_facts, invariants::monitor_connects).chain().in_set(Stage::Check),
        );
        app.add_systems(FinishSchedule, invariants::check_leaks.in_set(FinishStage::Check));
        Ok(())
    }
}

/// This tick's inputs, in the order the model handles them.
#[derive(Resource, Default)]
struct Inbox {
    acts: Vec<Command>,
    wakes: Vec<Wake>,
    signals: Vec<Signal>,
}

/// Spawn servers and remote peers; put the manager back to its initial state.
fn setup(world: &mut World) {
    let cast = world.resource::<Cast>().clone();
    let params = *world.resource::<Params>();
    let mut mgr = manager::Manager::default();
    mgr.app = cast.app;
    for &id in &cast.servers {
        world.spawn((id, Server { id }));
    }
    for &id in &cast.peers {
        world.spawn((id, Remote { id, pc: None, reply_via: Id::NONE, early: Vec::new() }));
    }
    world.insert_resource(mgr);
    world.insert_resource(invariants::Facts::default());
    world.insert_resource(Inbox::default());
    world.resource_mut::<Monitors>().declare(invariants::SETTLES, params.settle_deadline);
}

fn collect(
    mut acts: MessageReader<Act<Command>>,
    mut fired: MessageReader<Fired<Wake>>,
    mut inbound: MessageReader<Inbound<Signal>>,
    mut inbox: ResMut<Inbox>,
) {
    inbox.acts.extend(acts.read().map(|a| a.action.clone()));
    inbox.wakes.extend(fired.read().map(|f| f.0.clone()));
    inbox.signals.extend(inbound.read().map(|i| i.msg.clone()));
}

/// Handle this step's inputs: scripted steps first, then what the agenda handed over (one
/// source per step, so platform events and arrived messages interleave in the order the
/// engine's tape picks).
fn process(world: &mut World) {
    let mut inbox = std::mem::take(&mut *world.resource_mut::<Inbox>());
    if inbox.acts.is_empty() && inbox.wakes.is_empty() && inbox.signals.is_empty() {
        return;
    }
    let variant = world.resource::<VariantRes>().0;
    let params = *world.resource::<Params>();
    let mut mgr = std::mem::take(&mut *world.resource_mut::<manager::Manager>());
    {
        let mut cx = cx::Cx::new(world, &mut mgr, variant, params);
        for cmd in inbox.acts.drain(..) {
            act(&mut cx, cmd.action);
        }
        for w in inbox.wakes.drain(..) {
            wake(&mut cx, w);
        }
        for s in inbox.signals.drain(..) {
            relay::receive(&mut cx, s);
        }
    }
    *world.resource_mut::<manager::Manager>() = mgr;
    *world.resource_mut::<Inbox>() = inbox;
}

fn act(cx: &mut cx::Cx, action: Action) {
    use manager::OpKind;
    match action {
        Action::EnableExternal(server) => manager::start(cx, OpKind::Enable(server), None),
        Action::DisableExternal => manager::start(cx, OpKind::Disable, None),
        Action::Connect(peer) => manager::start(cx, OpKind::Connect(peer), None),
        Action::Disconnect(peer) => manager::start(cx, OpKind::Disconnect(peer), None),
        Action::Dispose => manager::start(cx, OpKind::Dispose, None),
        Action::SwitchServer(server) => manager::start(cx, OpKind::Disable, Some(OpKind::Enable(server))),
        Action::FailPeer(peer) => webrtc::fail(cx, peer),
        Action::NetworkChange => webrtc::network_change(cx),
    }
}

fn wake(cx: &mut cx::Cx, w: Wake) {
    match w {
        Wake::Op(i) => manager::resume(cx, i),
        Wake::Ice(pc) => webrtc::on_ice_candidate(cx, pc),
        Wake::CloseDone(pc, op) => webrtc::close_done(cx, pc, op),
        Wake::SocketClosed(c) => {
            if let Some(mut cl) = cx.client(c) {
                cl.state = components::ClientState::Disconnected;
            }
            cx.trace(crate::engine::EventKind::State, c, "socket_closed", Id::NONE, crate::engine::Args::EMPTY);
        }
        Wake::IceRestart(pc) => webrtc::ice_restart(cx, pc),
    }
}
