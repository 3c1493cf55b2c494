//! The model's systems: setup, the scripted actions, and one tick of servers, store,
//! worker and proxies, in that order (chained), then planning.
//!
//! Within a tick the store completes due writes first, then the worker takes from the
//! channel, then the proxies send into it: a slot freed on a tick is usable by an awaiting
//! send on the same tick, and a request sent on a tick is received on the next one.

use super::actions::SseAction;
use super::channel::PersistenceChannel;
use super::config::SseConfig;
use super::consumer::Consumer;
use super::env::Env;
use super::invariants::{Findings, MONITOR_GAP, MONITOR_STORE};
use super::messages::{Connect, Frame};
use super::metrics as m;
use super::proxy::{Proxy, SendMode, Task};
use super::server::Server;
use super::session::{Actors, Roster, Session, Sessions};
use super::store::Store;
use super::worker::{Worker, WorkerKind};
use crate::engine::Engine;
use crate::engine::ctx::SimCtx;
use crate::engine::script::Act;
use crate::engine::trace::{Args, EventKind};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

/// How this variant hands ids over and which worker runs.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Design {
    /// The tracker's send.
    pub send: SendMode,
    /// The worker.
    pub worker: WorkerKind,
}

/// The engine resources every model system needs, as one parameter.
#[derive(SystemParam)]
pub struct EnvParam<'w> {
    cx: SimCtx<'w>,
    cfg: Res<'w, SseConfig>,
}

impl EnvParam<'_> {
    /// The bundle for this tick.
    pub fn env(&mut self) -> Env<'_> {
        let (now, faulty) = (self.cx.now(), self.cx.faulty());
        let e: &mut crate::engine::Engine = &mut self.cx;
        Env::new(now, &self.cfg, faulty, &mut e.tape, &mut e.metrics, &mut e.trace, &e.names)
    }
}

/// Start of a run: fresh channel, store, worker and findings; one entity per session.
#[allow(clippy::too_many_arguments)]
pub fn setup(
    mut commands: Commands,
    roster: Res<Roster>,
    cfg: Res<SseConfig>,
    design: Res<Design>,
    actors: Res<Actors>,
    mut sessions: ResMut<Sessions>,
    mut engine: ResMut<Engine>,
) {
    // The seeds' counters and the headline numbers appear in every outcome, zero or not.
    for name in m::ALWAYS {
        engine.metrics.add(name, 0);
    }
    commands.insert_resource(PersistenceChannel::new(cfg.capacity));
    commands.insert_resource(Store::default());
    commands.insert_resource(Worker::new(design.worker, actors.worker));
    commands.insert_resource(Findings::default());
    sessions.clear();
    for ids in &roster.0 {
        let e = commands
            .spawn((
                Session { ids: *ids, started: false },
                Server::default(),
                Proxy::new(cfg.window, cfg.max_tracked),
                Consumer::default(),
            ))
            .id();
        sessions.add(ids.session, e);
    }
    engine.monitors.declare(MONITOR_GAP, cfg.deadline);
    engine.monitors.declare(MONITOR_STORE, cfg.deadline);
}

/// Carry out the scripted actions due now.
#[allow(clippy::too_many_arguments)]
pub fn on_act(
    mut acts: MessageReader<Act<SseAction>>,
    mut e: EnvParam,
    sessions: Res<Sessions>,
    mut q: Query<(&mut Session, &mut Server, &mut Proxy)>,
    mut channel: ResMut<PersistenceChannel>,
    mut store: ResMut<Store>,
    mut worker: ResMut<Worker>,
    mut connects: MessageWriter<Outbound<Connect>>,
) {
    let mut env = e.env();
    for act in acts.read() {
        match act.action {
            SseAction::StallStore(id, ticks) => {
                store.stall(env.now + ticks);
                env.log(EventKind::State, id, "stalled", id, Args::EMPTY.u("until", env.now + ticks));
                continue;
            }
            SseAction::CloseWorker(id) => {
                let lost = channel.close();
                worker.close();
                env.metrics.add(m::LOST_IN_CHANNEL, lost as u64);
                env.log(EventKind::State, id, "receiver_dropped", id, Args::EMPTY.u("lost", lost as u64));
                continue;
            }
            _ => {}
        }
        let Some(ids) = act.action.session() else { continue };
        let Some(Ok((mut session, mut server, mut proxy))) = sessions.get(ids.session).map(|en| q.get_mut(en)) else {
            continue;
        };
        if !session.started && !matches!(act.action, SseAction::Start(_)) {
            env.log(EventKind::Note, ids.session, "ignored_not_started", ids.session, Args::EMPTY);
            continue;
        }
        match act.action {
            SseAction::Start(_) => {
                session.started = true;
                let conn = proxy.open();
                server.open(conn);
                env.log(EventKind::State, ids.session, "connected", ids.server, Args::EMPTY.u("conn", u64::from(conn)));
            }
            SseAction::Burst(_, n) => server.to_emit += n,
            SseAction::Disconnect(_) => {
                let lost = proxy.break_stream();
                server.break_stream(proxy.next_conn);
                env.metrics.add(m::LOST_ON_DISCONNECT, lost);
                env.log(EventKind::State, ids.session, "disconnected", ids.server, Args::EMPTY.u("lost", lost));
            }
            SseAction::Reconnect(_, true) if proxy.conn.is_some() => {
                // The old stream's task goes on (its connection is not broken here); the
                // new one starts from the tracker's current Last-Event-ID.
                proxy.keep_old();
                let conn = proxy.open();
                let last = proxy.tracker.last_event_id().copied().or(store.get(ids.session));
                env.log(
                    EventKind::Call,
                    ids.session,
                    "reconnect_overlapping",
                    ids.server,
                    Args::EMPTY.u("conn", u64::from(conn)).u("last_event_id", last.unwrap_or(0)),
                );
                connects.write(Outbound(Connect {
                    session: ids.session,
                    server: ids.server,
                    conn,
                    last_event_id: last,
                }));
            }
            SseAction::Reconnect(..) => {
                if proxy.conn.is_some() {
                    let lost = proxy.break_stream();
                    server.break_stream(proxy.next_conn);
                    env.metrics.add(m::LOST_ON_DISCONNECT, lost);
                    env.log(EventKind::State, ids.session, "disconnected", ids.server, Args::EMPTY.u("lost", lost));
                }
                let conn = proxy.open();
                // Last-Event-ID: the tracker's, or after a restart the stored one.
                let from_tracker = proxy.tracker.last_event_id().copied();
                let last = from_tracker.or(store.get(ids.session));
                let src = if from_tracker.is_some() {
                    "tracker"
                } else if last.is_some() {
                    "store"
                } else {
                    "none"
                };
                env.log(
                    EventKind::Call,
                    ids.session,
                    "reconnect",
                    ids.server,
                    Args::EMPTY.u("conn", u64::from(conn)).u("last_event_id", last.unwrap_or(0)).s("from", src),
                );
                connects.write(Outbound(Connect {
                    session: ids.session,
                    server: ids.server,
                    conn,
                    last_event_id: last,
                }));
            }
            SseAction::Restart(_) => {
                let (lost, abandoned) = proxy.restart();
                server.break_stream(proxy.next_conn);
                env.metrics.add(m::LOST_ON_DISCONNECT, lost);
                if abandoned {
                    env.metrics.add(m::ABANDONED, 1);
                }
                env.log(
                    EventKind::State,
                    ids.session,
                    "restarted",
                    ids.server,
                    Args::EMPTY.u("lost", lost).b("abandoned_send", abandoned),
                );
            }
            SseAction::StallStore(..) | SseAction::CloseWorker(_) => {}
        }
    }
}

/// Servers take the connects handed over in this step (emission is `servers_emit`, once per tick).
pub fn servers(
    mut inbound: MessageReader<Inbound<Connect>>,
    mut e: EnvParam,
    sessions: Res<Sessions>,
    mut q: Query<(&Session, &mut Server)>,
    mut out: MessageWriter<Outbound<Frame>>,
    mut frames: Local<Vec<Frame>>,
) {
    let mut env = e.env();
    frames.clear();
    for msg in inbound.read() {
        let c = msg.msg;
        if let Some(Ok((_, mut server))) = sessions.get(c.session).map(|en| q.get_mut(en)) {
            server.on_connect(&mut env, &c, &mut frames);
        }
    }
    out.write_batch(frames.drain(..).map(Outbound));
}

/// Servers emit their due events, once per tick (after every connect of the tick arrived).
pub fn servers_emit(
    mut e: EnvParam,
    sessions: Res<Sessions>,
    mut q: Query<(&Session, &mut Server)>,
    mut out: MessageWriter<Outbound<Frame>>,
    mut frames: Local<Vec<Frame>>,
) {
    let mut env = e.env();
    frames.clear();
    for &(_, entity) in sessions.list() {
        let Ok((session, mut server)) = q.get_mut(entity) else { continue };
        if session.started && server.to_emit > 0 {
            server.emit(&mut env, session.ids.server, session.ids.session, &mut frames);
        }
    }
    out.write_batch(frames.drain(..).map(Outbound));
}

/// The store completes the write due now.
pub fn store_complete(mut e: EnvParam, mut store: ResMut<Store>, actors: Res<Actors>) {
    let mut env = e.env();
    if let Some(done) = store.complete(env.now) {
        let w = done.write;
        if done.ok {
            env.metrics.add(m::STORE_WRITES, 1);
            env.log(EventKind::State, actors.store, "stored", w.session, Args::EMPTY.u("id", w.event_id));
        } else {
            env.metrics.add(m::STORE_FAILURES, 1);
            env.log(EventKind::Note, actors.store, "write_failed", w.session, Args::EMPTY.u("id", w.event_id));
        }
    }
}

/// The worker's tick.
pub fn worker_step(
    mut e: EnvParam,
    mut worker: ResMut<Worker>,
    channel: Res<PersistenceChannel>,
    mut store: ResMut<Store>,
) {
    let mut env = e.env();
    worker.step(&mut env, &channel, &mut store);
}

/// Proxies read their streams.
pub fn proxies(
    mut inbound: MessageReader<Inbound<Frame>>,
    mut e: EnvParam,
    sessions: Res<Sessions>,
    mut q: Query<(&Session, &mut Proxy, &mut Consumer)>,
) {
    let mut env = e.env();
    for msg in inbound.read() {
        let f = msg.msg;
        if let Some(Ok((_, mut proxy, _))) = sessions.get(f.session).map(|en| q.get_mut(en)) {
            proxy.receive(&mut env, f);
        }
    }
}

/// Once per tick, after every frame of the tick arrived: awaiting sends retry (oldest wait
/// first, as a fair channel wakes them), then each session runs its queued events through
/// `record_event`.
pub fn proxies_process(
    mut e: EnvParam,
    sessions: Res<Sessions>,
    mut q: Query<(&Session, &mut Proxy, &mut Consumer)>,
    channel: Res<PersistenceChannel>,
    design: Res<Design>,
    mut findings: ResMut<Findings>,
    mut waiting: Local<Vec<(u64, usize, u8)>>,
) {
    let mut env = e.env();
    waiting.clear();
    for (i, &(_, entity)) in sessions.list().iter().enumerate() {
        if let Ok((_, proxy, _)) = q.get(entity) {
            if let Some(b) = proxy.old.as_ref().and_then(|o| o.blocked) {
                waiting.push((b.since, i, 0));
            }
            if let Some(b) = proxy.blocked {
                waiting.push((b.since, i, 1));
            }
        }
    }
    waiting.sort_unstable();
    for &(_, i, t) in waiting.iter() {
        let entity = sessions.list()[i].1;
        let task = if t == 0 { Task::Old } else { Task::New };
        if let Ok((session, mut proxy, mut consumer)) = q.get_mut(entity) {
            proxy.retry_send(&mut env, session.ids, &channel, &mut consumer, &mut findings, task);
        }
    }
    for &(_, entity) in sessions.list() {
        if let Ok((session, mut proxy, mut consumer)) = q.get_mut(entity) {
            let ids = session.ids;
            proxy.process(&mut env, ids, design.send, &channel, &mut consumer, &mut findings);
        }
    }
}

/// Ask the clock for the next tick with work.
pub fn plan(
    mut engine: ResMut<Engine>,
    sessions: Res<Sessions>,
    q: Query<(&Server, &Proxy)>,
    channel: Res<PersistenceChannel>,
    store: Res<Store>,
    worker: Res<Worker>,
) {
    let now = engine.clock.now;
    for &(_, entity) in sessions.list() {
        let Ok((server, proxy)) = q.get(entity) else { continue };
        if server.to_emit > 0 {
            engine.horizon.at(now + 1);
        }
        // An untimed send (deadline "never") is retried on the ticks the worker plans.
        for b in proxy.blocked.iter().chain(proxy.old.as_ref().and_then(|o| o.blocked.as_ref())) {
            if b.deadline != u64::MAX {
                engine.horizon.at(b.deadline.max(now + 1));
            }
        }
        if proxy.has_queued() {
            engine.horizon.at(now + 1);
        }
    }
    engine.horizon.at_opt(store.next_due());
    engine.horizon.at_opt(worker.next_tick(now, &channel, &store));
}
