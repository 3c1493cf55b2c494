//! The Twitch API side of EventSub: sessions, subscriptions and the quota they consume.
//!
//! A subscription is an entity. It exists from the moment the API accepts it until it is
//! deleted or its session closes, whatever the client remembers of it: a subscription the
//! client forgot is a zombie that keeps using quota.

use super::actors::Actors;
use super::config::Config;
use super::messages::{Api, ApiBody};
use crate::engine::ctx::SimCtx;
use crate::engine::ids::Id;
use crate::engine::trace::{Args, Event, EventKind};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// An EventSub subscription held by the API.
#[derive(Component, Debug, Clone, Copy)]
pub struct Subscription {
    /// Its number.
    pub sub: u64,
    /// The channel whose events it delivers.
    pub channel: Id,
    /// The session it belongs to.
    pub session: u64,
}

/// The API's sessions and subscriptions.
#[derive(Resource, Default, Debug)]
pub struct Helix {
    next_session: u64,
    open: BTreeSet<u64>,
    next_sub: u64,
    /// Live subscriptions: number -> (session, entity).
    subs: BTreeMap<u64, (u64, Entity)>,
}

impl Helix {
    /// Subscriptions counting against the quota now.
    pub fn used(&self) -> u64 {
        self.subs.len() as u64
    }
}

/// Start of a run: no sessions, no subscriptions.
pub fn setup(mut helix: ResMut<Helix>) {
    *helix = Helix::default();
}

/// Answer API calls.
#[allow(clippy::too_many_arguments)]
pub fn serve(
    mut inbound: MessageReader<Inbound<Api>>,
    mut helix: ResMut<Helix>,
    mut commands: Commands,
    mut out: MessageWriter<Outbound<Api>>,
    config: Res<Config>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    let reply = |body| Outbound(Api { from: actors.helix, to: actors.eventsub, body });
    for Inbound { msg, .. } in inbound.read() {
        if msg.to != actors.helix {
            continue;
        }
        match msg.body {
            ApiBody::Connect { attempt } => {
                helix.next_session += 1;
                let session = helix.next_session;
                helix.open.insert(session);
                out.write(reply(ApiBody::Welcome { attempt, session }));
            }
            ApiBody::Subscribe { session, channel } => {
                let refused = if !helix.open.contains(&session) {
                    Some("no_session")
                } else if helix.used() >= config.quota {
                    cx.metrics.add("adapters.quota_refusals", 1);
                    Some("quota")
                } else {
                    None
                };
                if let Some(reason) = refused {
                    out.write(reply(ApiBody::Refused { session, channel, reason }));
                    continue;
                }
                helix.next_sub += 1;
                let sub = helix.next_sub;
                let e = commands.spawn(Subscription { sub, channel, session }).id();
                helix.subs.insert(sub, (session, e));
                cx.metrics.max("adapters.quota_used_max", helix.used());
                cx.push_event(
                    Event::new(now, EventKind::State, actors.helix, "subscription")
                        .other(channel)
                        .args(Args::EMPTY.u("sub", sub).u("session", session).u("quota_used", helix.used())),
                );
                out.write(reply(ApiBody::Subscribed { session, channel, sub }));
            }
            ApiBody::Unsubscribe { sub, channel } => {
                if let Some((_, e)) = helix.subs.remove(&sub) {
                    commands.entity(e).despawn();
                    cx.push_event(
                        Event::new(now, EventKind::State, actors.helix, "deleted")
                            .other(channel)
                            .args(Args::EMPTY.u("sub", sub).u("quota_used", helix.used())),
                    );
                }
            }
            ApiBody::Disconnect { session } => {
                helix.open.remove(&session);
                let gone: Vec<u64> = helix.subs.iter().filter(|(_, (s, _))| *s == session).map(|(n, _)| *n).collect();
                for sub in gone {
                    if let Some((_, e)) = helix.subs.remove(&sub) {
                        commands.entity(e).despawn();
                    }
                }
                cx.push_event(
                    Event::new(now, EventKind::State, actors.helix, "session_closed")
                        .args(Args::EMPTY.u("session", session).u("quota_used", helix.used())),
                );
            }
            ApiBody::Welcome { .. } | ApiBody::Subscribed { .. } | ApiBody::Refused { .. } => {}
        }
    }
}
