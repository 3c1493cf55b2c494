//! The chat server: it sends chat messages and keepalive PINGs on the live connection,
//! accepts or refuses reconnect attempts, and can go secretly silent.

use super::actions::Action;
use super::actors::Actors;
use super::config::Config;
use super::eventsub::Client;
use super::messages::{ChatTimer, Irc, IrcBody};
use crate::engine::Engine;
use crate::engine::ctx::SimCtx;
use crate::engine::script::Act;
use crate::engine::timers::{Fired, Timers};
use crate::engine::trace::{Args, Event, EventKind};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;

/// The chat server's view of the bot's connection.
#[derive(Resource, Default, Debug)]
pub struct IrcServer {
    /// The live connection's generation, if any.
    pub live: Option<u64>,
    /// A connection that died secretly: nothing sent on it arrives, and nobody says so.
    pub silent: Option<u64>,
    /// Connections opened so far.
    pub next_gen: u64,
    /// Every attempt seen before this tick is refused.
    pub refuse_until: u64,
    /// Chat messages sent so far.
    pub next_seq: u64,
}

/// Start of a run: connection 1 is live; its first keepalive comes at a tick the tape picks.
pub fn setup(
    mut irc: ResMut<IrcServer>,
    mut timers: ResMut<Timers<ChatTimer>>,
    mut engine: ResMut<Engine>,
    config: Res<Config>,
) {
    *irc = IrcServer { live: Some(1), next_gen: 1, ..IrcServer::default() };
    let phase = engine.tape.range("irc.keepalive_phase", 1, config.keepalive);
    timers.after(0, phase, ChatTimer::Keepalive { conn: 1 });
}

/// Scripted traffic and failures, reconnect attempts, keepalives.
#[allow(clippy::too_many_arguments)]
pub fn serve(
    mut acts: MessageReader<Act<Action>>,
    mut inbound: MessageReader<Inbound<Irc>>,
    mut fired: MessageReader<Fired<ChatTimer>>,
    mut irc: ResMut<IrcServer>,
    client: Res<Client>,
    mut timers: ResMut<Timers<ChatTimer>>,
    mut out: MessageWriter<Outbound<Irc>>,
    config: Res<Config>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    let send = |body| Outbound(Irc { from: actors.irc, to: actors.chat, body });
    let sendable = |irc: &IrcServer| irc.live.filter(|g| irc.silent != Some(*g));
    for act in acts.read() {
        match act.action {
            Action::MessageBurst { channel, count } => {
                // The server sends a channel's messages only to a bot that joined it.
                match sendable(&irc) {
                    Some(conn) if client.channels.contains_key(&channel) => {
                        for _ in 0..count {
                            irc.next_seq += 1;
                            out.write(send(IrcBody::Chat { conn, channel, seq: irc.next_seq }));
                        }
                    }
                    _ => cx.push_event(
                        Event::new(now, EventKind::Note, actors.irc, "burst_not_sent")
                            .other(channel)
                            .args(Args::EMPTY.u("count", count)),
                    ),
                }
            }
            Action::ConnectionSilent { ticks } => {
                if let Some(conn) = irc.live {
                    irc.silent = Some(conn);
                    timers.after(now, ticks, ChatTimer::TcpClose { conn });
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.irc, "silent").args(Args::EMPTY.u("conn", conn)),
                    );
                }
            }
            Action::ConnectionDrop => {
                if let Some(conn) = irc.live.take() {
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.irc, "dropped").args(Args::EMPTY.u("conn", conn)),
                    );
                }
            }
            Action::PersistentFailure { ticks } => irc.refuse_until = irc.refuse_until.max(now + ticks),
            _ => {}
        }
    }
    for Inbound { msg, .. } in inbound.read() {
        if msg.to != actors.irc {
            continue;
        }
        match msg.body {
            IrcBody::Connect { attempt } => {
                if now < irc.refuse_until {
                    out.write(Outbound(Irc {
                        from: actors.irc,
                        to: actors.coordinator,
                        body: IrcBody::Refused { attempt },
                    }));
                    continue;
                }
                irc.next_gen += 1;
                let conn = irc.next_gen;
                irc.live = Some(conn);
                irc.silent = None;
                timers.after(now, config.keepalive, ChatTimer::Keepalive { conn });
                out.write(Outbound(Irc {
                    from: actors.irc,
                    to: actors.coordinator,
                    body: IrcBody::Accepted { attempt, conn },
                }));
            }
            IrcBody::Close { conn } => {
                if irc.live == Some(conn) {
                    irc.live = None;
                }
            }
            IrcBody::Chat { .. } | IrcBody::Ping { .. } | IrcBody::Accepted { .. } | IrcBody::Refused { .. } => {}
        }
    }
    for Fired(timer) in fired.read() {
        match *timer {
            ChatTimer::Keepalive { conn } if irc.live == Some(conn) => {
                if sendable(&irc) == Some(conn) {
                    out.write(send(IrcBody::Ping { conn }));
                }
                if now + config.keepalive <= config.observe_until {
                    timers.after(now, config.keepalive, ChatTimer::Keepalive { conn });
                }
            }
            ChatTimer::TcpClose { conn } if irc.live == Some(conn) => irc.live = None,
            _ => {}
        }
    }
}
