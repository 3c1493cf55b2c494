//! The fault plan: what the wire may do to a message before the scenario heals.

use crate::engine::ids::{Id, Names};
use bevy_ecs::prelude::*;

/// A window during which a link is cut: envelopes due on it then are held until it ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// One end (a stable id, or "*" for any).
    pub a: String,
    /// The other end.
    pub b: String,
    /// First tick of the cut.
    pub from: u64,
    /// First tick after the cut.
    pub to: u64,
}

/// Rates and ranges of wire faults, in force before `heal_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Delivery delay range in ticks, inclusive. After heal every delay is the minimum.
    pub delay: (u64, u64),
    /// Probability that an envelope is lost.
    pub drop: f64,
    /// Probability that an envelope is delivered twice.
    pub duplicate: f64,
    /// Whether the tape orders envelopes due on the same tick (else FIFO).
    pub reorder: bool,
    /// Whether each link (sender, receiver) keeps its order, as one TCP connection does;
    /// envelopes of different links still overtake each other.
    pub fifo: bool,
    /// From this tick on, the wire is calm.
    pub heal_at: u64,
    /// Link cuts.
    pub partitions: Vec<Partition>,
}

impl FaultPlan {
    /// No faults: every message arrives one tick later, in order.
    pub fn calm() -> Self {
        FaultPlan {
            delay: (1, 1),
            drop: 0.0,
            duplicate: 0.0,
            reorder: true,
            fifo: true,
            heal_at: 0,
            partitions: Vec::new(),
        }
    }

    /// Whether faults apply at `now`.
    pub fn active(&self, now: u64) -> bool {
        now < self.heal_at
    }
}

/// Partitions with their ends resolved to ids (`None` = any), rebuilt at the start of each run.
#[derive(Default, Debug)]
pub struct Cuts {
    cuts: Vec<(Option<Id>, Option<Id>, u64, u64)>,
}

impl Cuts {
    /// Resolve `plan`'s partitions against `names`.
    pub fn resolve(plan: &FaultPlan, names: &mut Names) -> Self {
        let end = |s: &str, names: &mut Names| {
            if s == "*" { None } else { Some(names.intern(s)) }
        };
        Cuts { cuts: plan.partitions.iter().map(|p| (end(&p.a, names), end(&p.b, names), p.from, p.to)).collect() }
    }

    /// If the link `from -> to` is cut at `tick`, the tick the cut ends.
    pub fn held_until(&self, from: Id, to: Id, tick: u64) -> Option<u64> {
        let matches = |end: Option<Id>, id: Id| end.is_none_or(|e| e == id);
        self.cuts
            .iter()
            .filter(|(a, b, lo, hi)| {
                (*lo..*hi).contains(&tick)
                    && ((matches(*a, from) && matches(*b, to)) || (matches(*a, to) && matches(*b, from)))
            })
            .map(|c| c.3)
            .max()
    }
}

/// Settings of one kind of link, overriding the plan's delay for the envelopes it matches:
/// what a model declares about a party (a service's latency, a flaky endpoint).
#[derive(Clone, Debug, PartialEq)]
pub struct LinkRule {
    /// The sender it applies to ([`Id::NONE`]: any).
    pub from: Id,
    /// The receiver it applies to ([`Id::NONE`]: any).
    pub to: Id,
    /// Delay range in ticks, inclusive. A property of the link rather than a fault, so it
    /// is drawn on every send, before and after the heal point (calm: the minimum).
    pub delay: (u64, u64),
    /// Before the heal point, the chance that the envelope is lost in a way the sender's
    /// transport notices (a reset connection): it comes back to the sender as a bounce
    /// (`Inbound::bounced`) at the tick it would have arrived.
    pub fail: f64,
    /// Whether the plan's drop and duplicate spare this link (an in-process channel rather
    /// than a network hop); partitions still cut it.
    pub lossless: bool,
}

/// Per-link settings, first match wins; links no rule matches use the plan alone.
/// Models insert it when they install (it is the same in every run).
#[derive(Resource, Clone, Debug, Default)]
pub struct LinkRules(pub Vec<LinkRule>);

impl LinkRules {
    /// The rule for the link `from -> to`, if any.
    pub fn find(&self, from: Id, to: Id) -> Option<&LinkRule> {
        self.0.iter().find(|r| (r.from == Id::NONE || r.from == from) && (r.to == Id::NONE || r.to == to))
    }
}
