//! The invariants and the liveness monitor.

use super::actors::Actors;
use super::callbacks::{AuthManager, EventLedger, EventRecord};
use super::channel_registries::ChannelRegistries;
use super::chat::{Chat, ConnState};
use super::config::{BACKOFF_CAP, Config, STALE_AFTER};
use super::eventsub::Client;
use super::helix::Subscription;
use crate::engine::Engine;
use crate::engine::check::Violation;
use crate::engine::ids::{Id, Names};
use bevy_ecs::prelude::*;

/// An auth event reaches every handler registered, on the adapter or any clone of it,
/// before it was published.
pub const EVERY_EVENT: &str = "every_event_reaches_every_handler";
/// Liveness: after a successful auth, features are active within a deadline.
pub const CHAIN: &str = "reactive_chain_completes";
/// At quiescence no EventSub subscription exists for a channel that was left (nor a second
/// one for a joined channel): quota use matches joined channels.
pub const ZOMBIES: &str = "no_zombie_subscriptions";
/// Every chat message that arrived is seen by the chat handler.
pub const CONSUMED: &str = "no_message_consumed_by_health_check";
/// A connection silent for more than 60 ticks is reported unhealthy within one health period.
pub const STALE: &str = "stale_connection_detected";
/// Backoff never exceeds the cap, and after N consecutive failures the coordinator escalates.
pub const RECONNECT: &str = "reconnect_bounded";
/// At quiescence the lock and breaker registries hold nothing for channels left.
pub const REGISTRIES: &str = "registries_bounded";

/// Every invariant and monitor, by name.
pub const NAMES: [&str; 7] = [EVERY_EVENT, CHAIN, ZOMBIES, CONSUMED, STALE, RECONNECT, REGISTRIES];

fn judge_event(record: &EventRecord, names: &Names) -> Option<Violation> {
    let missed = record.expected.iter().find(|e| !record.reached.contains(e))?;
    Some(Violation {
        invariant: EVERY_EVENT,
        detail: format!(
            "auth event {} ({}, published at tick {}) never reached handler `{}` registered on `{}`",
            record.event,
            record.kind.name(),
            record.published,
            names.name(missed.handler),
            names.name(missed.via)
        ),
        ids: vec![missed.handler, missed.via],
    })
}

/// Judge each event once the bus has made all its deliveries.
pub fn check_events(mut ledger: ResMut<EventLedger>, engine: Res<Engine>, mut violations: MessageWriter<Violation>) {
    for record in ledger.events.iter_mut().filter(|r| !r.judged && r.pending == 0) {
        record.judged = true;
        if let Some(v) = judge_event(record, &engine.names) {
            violations.write(v);
        }
    }
}

/// A message the validation consumed is a message the chat handler never sees.
pub fn check_messages(
    chat: Res<Chat>,
    actors: Res<Actors>,
    engine: Res<Engine>,
    mut violations: MessageWriter<Violation>,
) {
    if let Some(c) = chat.consumed.first() {
        violations.write(Violation {
            invariant: CONSUMED,
            detail: format!(
                "chat message {} seq {} arrived at tick {} and was received and discarded by the health validation",
                engine.names.name(c.channel),
                c.seq,
                c.at
            ),
            ids: vec![actors.coordinator, c.channel],
        });
    }
}

/// The tick from which a connection last active at `last` is overdue to be reported.
fn stale_due(last: u64, config: &Config) -> u64 {
    last + STALE_AFTER + 1 + config.health_period
}

/// A connection believed open that has been silent past the threshold plus one period.
pub fn check_stale(
    chat: Res<Chat>,
    config: Res<Config>,
    engine: Res<Engine>,
    actors: Res<Actors>,
    mut violations: MessageWriter<Violation>,
) {
    let due = stale_due(chat.last_activity, &config);
    if chat.state == ConnState::Open && engine.clock.now >= due && engine.clock.now <= config.observe_until {
        violations.write(Violation {
            invariant: STALE,
            detail: format!(
                "connection {} silent since tick {} ({} ticks, threshold {STALE_AFTER}) is still reported healthy {} ticks after it went stale",
                chat.conn,
                chat.last_activity,
                engine.clock.now - chat.last_activity,
                engine.clock.now - (chat.last_activity + STALE_AFTER + 1)
            ),
            ids: vec![actors.chat, actors.health],
        });
    }
}

/// Visit the tick a silent connection becomes overdue, so the check sees it on time.
pub fn plan_stale(chat: Res<Chat>, config: Res<Config>, mut engine: ResMut<Engine>) {
    let due = stale_due(chat.last_activity, &config);
    if chat.state == ConnState::Open && due <= config.observe_until {
        engine.horizon.at(due);
    }
}

/// Judge the latest retry the coordinator scheduled.
pub fn check_reconnect(
    chat: Res<Chat>,
    config: Res<Config>,
    actors: Res<Actors>,
    mut violations: MessageWriter<Violation>,
) {
    let Some(r) = chat.coordinator.last_retry else { return };
    let detail = if r.delay > BACKOFF_CAP {
        format!(
            "backoff of {} ticks after {} consecutive failures exceeds the {BACKOFF_CAP}-tick cap",
            r.delay, r.after_failures
        )
    } else if r.after_failures >= config.max_failures {
        format!(
            "retrying after {} consecutive failures instead of escalating (limit {})",
            r.after_failures, config.max_failures
        )
    } else {
        return;
    };
    violations.write(Violation { invariant: RECONNECT, detail, ids: vec![actors.coordinator] });
}

/// Hot while auth is ok and features are not active.
pub fn monitor_chain(auth: Res<AuthManager>, client: Res<Client>, actors: Res<Actors>, mut engine: ResMut<Engine>) {
    engine.monitor(CHAIN, actors.features, auth.ok && !client.active);
}

/// Declare the monitor (its deadline comes from the scenario).
pub fn declare(config: Res<Config>, mut engine: ResMut<Engine>) {
    engine.monitors.declare(CHAIN, config.chain_deadline);
}

/// At quiescence: events whose deliveries never all arrived.
pub fn finish_events(ledger: Res<EventLedger>, engine: Res<Engine>, mut violations: MessageWriter<Violation>) {
    if let Some(v) = ledger.events.iter().filter(|r| !r.judged).find_map(|r| judge_event(r, &engine.names)) {
        violations.write(v);
    }
}

/// At quiescence: subscriptions for channels not joined, or more than one for a channel.
pub fn finish_zombies(
    subs: Query<&Subscription>,
    client: Res<Client>,
    actors: Res<Actors>,
    engine: Res<Engine>,
    mut violations: MessageWriter<Violation>,
) {
    let mut all: Vec<Subscription> = subs.iter().copied().collect();
    all.sort_unstable_by_key(|s| s.sub);
    let mut claimed: Vec<Id> = Vec::new();
    for s in &all {
        let joined = client.channels.contains_key(&s.channel);
        let duplicate = claimed.contains(&s.channel);
        if joined && !duplicate {
            claimed.push(s.channel);
            continue;
        }
        let why = if joined { "a second subscription for a joined channel" } else { "its channel was left" };
        violations.write(Violation {
            invariant: ZOMBIES,
            detail: format!(
                "subscription {} for {} (session {}) is a zombie: {why}; {} subscriptions use quota for {} joined channels",
                s.sub,
                engine.names.name(s.channel),
                s.session,
                all.len(),
                client.channels.len()
            ),
            ids: vec![actors.helix, s.channel],
        });
        return;
    }
}

/// At quiescence: registry entries for channels the bot no longer is in.
pub fn finish_registries(
    regs: Res<ChannelRegistries>,
    client: Res<Client>,
    actors: Res<Actors>,
    engine: Res<Engine>,
    mut violations: MessageWriter<Violation>,
) {
    let stale = |set: &std::collections::BTreeSet<Id>| set.iter().copied().find(|c| !client.channels.contains_key(c));
    let found = stale(&regs.locks)
        .map(|c| ("user lock", c, regs.locks.len()))
        .or_else(|| stale(&regs.breakers).map(|c| ("circuit breaker", c, regs.breakers.len())));
    if let Some((what, channel, size)) = found {
        violations.write(Violation {
            invariant: REGISTRIES,
            detail: format!(
                "the {what} registry still holds {} after the bot left it ({size} entries, {} joined channels)",
                engine.names.name(channel),
                client.channels.len()
            ),
            ids: vec![actors.registries, channel],
        });
    }
}
