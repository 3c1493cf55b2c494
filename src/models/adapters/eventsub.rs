//! The EventSub client and the reactive chain: auth ok -> EventSub session -> a subscription
//! for each joined channel -> features active.
//!
//! The feature manager's callback is level-triggered: whatever auth event reaches it, it
//! reads the auth manager's current state and moves the chain toward it. So the order in
//! which the bus delivers events does not matter, only whether they arrive at all.
//! Leaving a channel is audit item 7: as audited, `leave_channel()` forgets the channel and
//! its subscription id without deleting the subscription.

use super::actions::Action;
use super::actors::Actors;
use super::callbacks::AuthManager;
use super::channel_registries::ChannelRegistries;
use super::messages::{Api, ApiBody};
use super::variant::Switches;
use crate::engine::ctx::SimCtx;
use crate::engine::ids::{Id, Names};
use crate::engine::script::Act;
use crate::engine::trace::{Args, Event, EventKind, Trace};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;
use std::collections::BTreeMap;

/// The client's EventSub session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Session {
    /// None.
    #[default]
    Down,
    /// Connect attempt `attempt` sent, no welcome yet.
    Connecting(u64),
    /// Session open.
    Up(u64),
}

/// What the client knows of a joined channel's subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    /// None asked for.
    None,
    /// Asked for on the session, no answer yet.
    Pending(u64),
    /// Subscription number.
    Active(u64),
}

/// The EventSub client and feature manager.
#[derive(Resource, Default, Debug)]
pub struct Client {
    /// Connect attempts so far.
    pub attempt: u64,
    /// The session.
    pub session: Session,
    /// Joined channels and their subscriptions.
    pub channels: BTreeMap<Id, Sub>,
    /// Whether features are active (session up, every joined channel subscribed).
    pub active: bool,
    /// The feature manager's callback ran this tick: re-evaluate the chain.
    pub poke: bool,
}

/// Start of a run: nothing joined, no session.
pub fn setup(mut client: ResMut<Client>, mut regs: ResMut<ChannelRegistries>) {
    *client = Client::default();
    *regs = ChannelRegistries::default();
}

struct Io<'a, 'w> {
    out: &'a mut MessageWriter<'w, Outbound<Api>>,
    regs: &'a mut ChannelRegistries,
    actors: &'a Actors,
}

impl Io<'_, '_> {
    fn call(&mut self, body: ApiBody) {
        self.out.write(Outbound(Api { from: self.actors.eventsub, to: self.actors.helix, body }));
    }

    fn subscribe(&mut self, channel: Id, session: u64) -> Sub {
        // The circuit breaker guarding the channel's API calls is created on first use.
        self.regs.breakers.insert(channel);
        self.call(ApiBody::Subscribe { session, channel });
        Sub::Pending(session)
    }
}

fn subscribe_missing(client: &mut Client, session: u64, io: &mut Io) {
    for (channel, sub) in client.channels.iter_mut() {
        if *sub == Sub::None {
            *sub = io.subscribe(*channel, session);
        }
    }
}

/// The feature manager's reaction to an auth event: move the chain toward the auth state.
fn evaluate(client: &mut Client, auth_ok: bool, io: &mut Io) {
    match (auth_ok, client.session) {
        (true, Session::Down) => {
            client.attempt += 1;
            client.session = Session::Connecting(client.attempt);
            io.call(ApiBody::Connect { attempt: client.attempt });
        }
        (true, Session::Up(s)) => subscribe_missing(client, s, io),
        (false, Session::Connecting(_)) => client.session = Session::Down,
        (false, Session::Up(session)) => {
            io.call(ApiBody::Disconnect { session });
            client.session = Session::Down;
            client.channels.values_mut().for_each(|s| *s = Sub::None);
        }
        (true, Session::Connecting(_)) | (false, Session::Down) => {}
    }
}

/// `join` and `leave`.
#[allow(clippy::too_many_arguments)]
pub fn act(
    mut acts: MessageReader<Act<Action>>,
    mut client: ResMut<Client>,
    mut regs: ResMut<ChannelRegistries>,
    mut out: MessageWriter<Outbound<Api>>,
    switches: Res<Switches>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    let mut io = Io { out: &mut out, regs: &mut regs, actors: &actors };
    for act in acts.read() {
        match act.action {
            Action::Join { channel } => {
                if client.channels.contains_key(&channel) {
                    cx.push_event(Event::new(now, EventKind::Note, actors.eventsub, "already_joined").other(channel));
                    continue;
                }
                io.regs.locks.insert(channel);
                let sub = match client.session {
                    Session::Up(s) => io.subscribe(channel, s),
                    _ => Sub::None,
                };
                client.channels.insert(channel, sub);
            }
            Action::Leave { channel } => {
                let Some(sub) = client.channels.remove(&channel) else {
                    cx.push_event(Event::new(now, EventKind::Note, actors.eventsub, "not_joined").other(channel));
                    continue;
                };
                let unsubscribed = match sub {
                    Sub::Active(s) if switches.unsubscribe_on_leave => {
                        io.call(ApiBody::Unsubscribe { sub: s, channel });
                        true
                    }
                    _ => false,
                };
                if switches.prune_registries {
                    io.regs.prune(channel);
                }
                let state = match sub {
                    Sub::None => "none",
                    Sub::Pending(_) => "pending",
                    Sub::Active(_) => "active",
                };
                cx.push_event(
                    Event::new(now, EventKind::State, actors.eventsub, "left")
                        .other(channel)
                        .args(Args::EMPTY.s("subscription", state).b("unsubscribed", unsubscribed)),
                );
            }
            _ => {}
        }
    }
    {
        let e = &mut *cx;
        update_active(&mut client, &actors, now, &e.names, &mut e.trace);
    }
}

/// Answers from the API, then the feature manager's re-evaluation if its callback ran.
#[allow(clippy::too_many_arguments)]
pub fn react(
    mut inbound: MessageReader<Inbound<Api>>,
    auth: Res<AuthManager>,
    mut client: ResMut<Client>,
    mut regs: ResMut<ChannelRegistries>,
    mut out: MessageWriter<Outbound<Api>>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    let mut io = Io { out: &mut out, regs: &mut regs, actors: &actors };
    for Inbound { msg, .. } in inbound.read() {
        if msg.to != actors.eventsub {
            continue;
        }
        match msg.body {
            ApiBody::Welcome { attempt, session } => {
                if client.session == Session::Connecting(attempt) {
                    client.session = Session::Up(session);
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.eventsub, "session_up")
                            .args(Args::EMPTY.u("session", session)),
                    );
                    subscribe_missing(&mut client, session, &mut io);
                } else {
                    // An attempt the feature manager gave up on: close what it opened.
                    io.call(ApiBody::Disconnect { session });
                }
            }
            ApiBody::Subscribed { session, channel, sub } => {
                let current = client.session == Session::Up(session);
                match client.channels.get_mut(&channel) {
                    Some(s) if current && *s == Sub::Pending(session) => *s = Sub::Active(sub),
                    // As audited, an answer for a channel no longer joined is dropped on the
                    // floor: nobody deletes the subscription it reports.
                    _ => cx.push_event(
                        Event::new(now, EventKind::Note, actors.eventsub, "unclaimed_subscription")
                            .other(channel)
                            .args(Args::EMPTY.u("sub", sub).b("current_session", current)),
                    ),
                }
            }
            ApiBody::Refused { session, channel, reason } => {
                if let Some(s) = client.channels.get_mut(&channel)
                    && *s == Sub::Pending(session)
                {
                    *s = Sub::None;
                }
                cx.push_event(
                    Event::new(now, EventKind::Note, actors.eventsub, "refused")
                        .other(channel)
                        .args(Args::EMPTY.s("reason", reason)),
                );
            }
            ApiBody::Connect { .. }
            | ApiBody::Subscribe { .. }
            | ApiBody::Unsubscribe { .. }
            | ApiBody::Disconnect { .. } => {}
        }
    }
    if client.poke {
        client.poke = false;
        evaluate(&mut client, auth.ok, &mut io);
    }
    {
        let e = &mut *cx;
        update_active(&mut client, &actors, now, &e.names, &mut e.trace);
    }
}

fn update_active(client: &mut Client, actors: &Actors, now: u64, names: &Names, trace: &mut Trace) {
    let active =
        matches!(client.session, Session::Up(_)) && client.channels.values().all(|s| matches!(s, Sub::Active(_)));
    if active != client.active {
        client.active = active;
        trace.push(
            names,
            Event::new(now, EventKind::State, actors.features, "features").args(Args::EMPTY.b("active", active)),
        );
    }
}
