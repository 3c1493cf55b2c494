//! The bot's chat connection: the chat handler reading the message stream, the health
//! monitor on a timer (audit item 6), the reconnection coordinator's health validation
//! reading the same stream (audit item 8), and reconnects (audit item 9).
//!
//! Every health period the monitor asks `is_healthy()`. As audited that always answers yes;
//! the fix compares the last activity with the 60-tick threshold. When the answer is yes,
//! the coordinator's `validate_connection_health()` receives from the stream with a short
//! timeout: as audited the message it receives is discarded, whatever it was; the fix peeks
//! and leaves it for the chat handler. A timeout counts as healthy (the socket is open).

use super::actions::Action;
use super::actors::Actors;
use super::config::{Config, STALE_AFTER};
use super::messages::{ChatTimer, Irc, IrcBody};
use super::reconnect::Coordinator;
use super::variant::Switches;
use crate::engine::Engine;
use crate::engine::ctx::SimCtx;
use crate::engine::ids::{Id, Names};
use crate::engine::script::Act;
use crate::engine::timers::{Fired, Timers};
use crate::engine::trace::{Args, Describe, Event, EventKind, Trace};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;

/// The connection as the bot sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnState {
    /// Open (perhaps secretly dead).
    #[default]
    Open,
    /// Closed; the coordinator is reconnecting.
    Reconnecting,
    /// The coordinator gave up and escalated.
    Escalated,
}

/// A health validation waiting for a message. Its timeout needs no timer of its own: a
/// probe past `until` is over, and the next message goes to the chat handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The connection it reads.
    pub conn: u64,
    /// When it started.
    pub started: u64,
    /// The last tick it waits.
    pub until: u64,
}

/// A chat message the health validation received and discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consumed {
    /// Its channel.
    pub channel: Id,
    /// Its sequence number.
    pub seq: u64,
    /// When it arrived.
    pub at: u64,
}

/// The bot's chat side.
#[derive(Resource, Default, Debug)]
pub struct Chat {
    /// The current connection's generation.
    pub conn: u64,
    /// Its state.
    pub state: ConnState,
    /// The tick anything last arrived on it.
    pub last_activity: u64,
    /// A validation in progress.
    pub probe: Option<Probe>,
    /// Chat messages that arrived.
    pub arrived: u64,
    /// Chat messages the chat handler read.
    pub seen: u64,
    /// Chat messages the health validation consumed.
    pub consumed: Vec<Consumed>,
    /// Times the health monitor reported the connection unhealthy.
    pub unhealthy_reports: u32,
    /// The reconnection coordinator.
    pub coordinator: Coordinator,
}

/// Start of a run: connection 1 open; the first health check at a tick the tape picks.
pub fn setup(
    mut chat: ResMut<Chat>,
    mut timers: ResMut<Timers<ChatTimer>>,
    mut engine: ResMut<Engine>,
    config: Res<Config>,
) {
    *chat = Chat { conn: 1, ..Chat::default() };
    let phase = engine.tape.range("health.phase", 1, config.health_period);
    timers.after(0, phase, ChatTimer::Health);
}

fn close(chat: &mut Chat, timers: &mut Timers<ChatTimer>, switches: &Switches, now: u64) {
    chat.state = ConnState::Reconnecting;
    chat.probe = None;
    chat.coordinator.start(now, timers, switches.capped_backoff);
}

fn trace_retry(chat: &Chat, actors: &Actors, now: u64, names: &Names, trace: &mut Trace) {
    if let Some(r) = chat.coordinator.last_retry {
        trace.push(
            names,
            Event::new(now, EventKind::State, actors.coordinator, "backoff")
                .args(Args::EMPTY.u("delay", r.delay).u("failures", u64::from(r.after_failures))),
        );
    }
}

/// The chat handler, the health monitor, the validation and the coordinator.
#[allow(clippy::too_many_arguments)]
pub fn run(
    mut acts: MessageReader<Act<Action>>,
    mut inbound: MessageReader<Inbound<Irc>>,
    mut fired: MessageReader<Fired<ChatTimer>>,
    mut chat: ResMut<Chat>,
    mut timers: ResMut<Timers<ChatTimer>>,
    mut out: MessageWriter<Outbound<Irc>>,
    switches: Res<Switches>,
    config: Res<Config>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    let chat = &mut *chat;
    for act in acts.read() {
        if act.action == Action::ConnectionDrop && chat.state == ConnState::Open {
            cx.push_event(
                Event::new(now, EventKind::State, actors.chat, "closed").args(Args::EMPTY.u("conn", chat.conn)),
            );
            close(chat, &mut timers, &switches, now);
            {
                let e = &mut *cx;
                trace_retry(chat, &actors, now, &e.names, &mut e.trace);
            }
        }
    }
    for Inbound { msg, .. } in inbound.read() {
        match msg.body {
            IrcBody::Chat { conn, .. } | IrcBody::Ping { conn } => {
                if chat.state != ConnState::Open || conn != chat.conn {
                    // Sent on a connection that is gone: it never arrived.
                    continue;
                }
                chat.last_activity = now;
                let chat_msg = match msg.body {
                    IrcBody::Chat { channel, seq, .. } => {
                        chat.arrived += 1;
                        Some((channel, seq))
                    }
                    _ => None,
                };
                // A validation that timed out is over (a timeout counts as healthy).
                chat.probe.take_if(|p| p.until < now);
                if let Some(p) = chat.probe.take_if(|p| p.conn == conn) {
                    cx.push_event(
                        Event::new(now, EventKind::Call, actors.coordinator, "validation_read").args(
                            Args::EMPTY
                                .s("frame", msg.label())
                                .b("peek", switches.peek_health_check)
                                .u("started", p.started),
                        ),
                    );
                    if !switches.peek_health_check {
                        // As audited: the message is received and dropped.
                        if let Some((channel, seq)) = chat_msg {
                            cx.metrics.add("adapters.messages_consumed", 1);
                            chat.consumed.push(Consumed { channel, seq, at: now });
                        }
                        continue;
                    }
                }
                if let Some((channel, seq)) = chat_msg {
                    chat.seen += 1;
                    cx.push_event(
                        Event::new(now, EventKind::Call, actors.chat, "handle")
                            .other(channel)
                            .args(Args::EMPTY.u("seq", seq)),
                    );
                }
            }
            IrcBody::Accepted { attempt, conn } => {
                if chat.state == ConnState::Reconnecting && attempt == chat.coordinator.attempt {
                    chat.conn = conn;
                    chat.state = ConnState::Open;
                    chat.last_activity = now;
                    chat.coordinator.succeeded();
                    cx.metrics.add("adapters.reconnects", 1);
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.chat, "open").args(Args::EMPTY.u("conn", conn)),
                    );
                }
            }
            IrcBody::Refused { attempt } => {
                if chat.state == ConnState::Reconnecting && attempt == chat.coordinator.attempt {
                    cx.metrics.add("adapters.reconnect_failures", 1);
                    if chat.coordinator.failed(now, &mut timers, switches.capped_backoff, config.max_failures) {
                        chat.state = ConnState::Escalated;
                        cx.push_event(
                            Event::new(now, EventKind::State, actors.coordinator, "escalated")
                                .args(Args::EMPTY.u("failures", u64::from(chat.coordinator.failures))),
                        );
                    } else {
                        {
                            let e = &mut *cx;
                            trace_retry(chat, &actors, now, &e.names, &mut e.trace);
                        }
                    }
                }
            }
            IrcBody::Connect { .. } | IrcBody::Close { .. } => {}
        }
    }
    for Fired(timer) in fired.read() {
        match *timer {
            ChatTimer::Health => {
                if now + config.health_period <= config.observe_until {
                    timers.after(now, config.health_period, ChatTimer::Health);
                }
                if chat.state != ConnState::Open {
                    continue;
                }
                let silent = now - chat.last_activity;
                // As audited `is_healthy()` always answers true.
                let healthy = !switches.activity_health || silent <= STALE_AFTER;
                if !healthy {
                    chat.unhealthy_reports += 1;
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.health, "unhealthy")
                            .args(Args::EMPTY.u("silent", silent)),
                    );
                    out.write(Outbound(Irc {
                        from: actors.chat,
                        to: actors.irc,
                        body: IrcBody::Close { conn: chat.conn },
                    }));
                    close(chat, &mut timers, &switches, now);
                    {
                        let e = &mut *cx;
                        trace_retry(chat, &actors, now, &e.names, &mut e.trace);
                    }
                } else if chat.probe.is_none_or(|p| p.until < now) {
                    chat.probe = Some(Probe { conn: chat.conn, started: now, until: now + config.probe });
                    cx.push_event(
                        Event::new(now, EventKind::Call, actors.coordinator, "validate")
                            .args(Args::EMPTY.u("conn", chat.conn)),
                    );
                }
            }
            ChatTimer::Backoff => {
                if chat.state == ConnState::Reconnecting {
                    chat.coordinator.attempt += 1;
                    let attempt = chat.coordinator.attempt;
                    out.write(Outbound(Irc {
                        from: actors.coordinator,
                        to: actors.irc,
                        body: IrcBody::Connect { attempt },
                    }));
                }
            }
            ChatTimer::TcpClose { conn } => {
                if chat.state == ConnState::Open && chat.conn == conn {
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.chat, "closed").args(Args::EMPTY.u("conn", conn)),
                    );
                    close(chat, &mut timers, &switches, now);
                    {
                        let e = &mut *cx;
                        trace_retry(chat, &actors, now, &e.names, &mut e.trace);
                    }
                }
            }
            ChatTimer::Keepalive { .. } => {}
        }
    }
}
