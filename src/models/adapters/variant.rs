//! The variants: each audited bug is a switch, and a variant is a named set of switches.
//!
//! `baseline` has every bug as the sources describe it, `fixed` every fix, and each
//! single-fix variant repairs exactly one bug, so a matrix over the variants shows which fix
//! removes which violation.

use crate::engine::model::VariantDoc;
use bevy_ecs::prelude::*;

/// Which fixes are in. `false` everywhere is the code as audited.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// Seed 000: `Clone` shares the callback container through the `Arc` instead of
    /// creating a fresh, empty one.
    pub shared_registry: bool,
    /// Audit item 7: `leave_channel()` unsubscribes the channel's EventSub subscription
    /// before it forgets the channel.
    pub unsubscribe_on_leave: bool,
    /// Audit item 8: `validate_connection_health()` peeks at the stream instead of receiving
    /// (and discarding) the message it reads.
    pub peek_health_check: bool,
    /// Audit item 6: `is_healthy()` compares the last activity with the 60-tick staleness
    /// threshold instead of always answering true.
    pub activity_health: bool,
    /// Audit item 9: reconnect backoff is capped at 60 ticks and the coordinator escalates
    /// after N consecutive failures instead of retrying forever.
    pub capped_backoff: bool,
    /// Audit items 14 and 15: leaving a channel removes its user lock and its circuit
    /// breaker from the global registries instead of keeping them forever.
    pub prune_registries: bool,
}

/// The single fixes, by variant name, each with what it repairs.
const SINGLE: &[(&str, &str)] = &[
    ("shared_registry", "only Clone shares the callback registry (seed 000's fix)"),
    ("unsubscribe_on_leave", "only leave_channel() unsubscribes from EventSub (audit item 7)"),
    ("peek_health_check", "only the health validation peeks instead of consuming (audit item 8)"),
    ("activity_health", "only is_healthy() checks last activity (audit item 6)"),
    ("capped_backoff", "only reconnect backoff is capped and escalates (audit item 9)"),
    ("prune_registries", "only leaving a channel prunes the lock and breaker registries (audit items 14, 15)"),
];

impl Switches {
    /// Every fix in.
    pub const FIXED: Switches = Switches {
        shared_registry: true,
        unsubscribe_on_leave: true,
        peek_health_check: true,
        activity_health: true,
        capped_backoff: true,
        prune_registries: true,
    };

    /// The switches of the variant named `name`.
    pub fn of(name: &str) -> Option<Switches> {
        let mut s = Switches::default();
        match name {
            "baseline" => {}
            "fixed" => s = Switches::FIXED,
            "shared_registry" => s.shared_registry = true,
            "unsubscribe_on_leave" => s.unsubscribe_on_leave = true,
            "peek_health_check" => s.peek_health_check = true,
            "activity_health" => s.activity_health = true,
            "capped_backoff" => s.capped_backoff = true,
            "prune_registries" => s.prune_registries = true,
            _ => return None,
        }
        Some(s)
    }
}

/// Every variant with its description, `baseline` first and `fixed` last.
pub fn docs() -> Vec<VariantDoc> {
    let mut out = vec![VariantDoc { name: "baseline".into(), about: "every bug as audited".into() }];
    out.extend(SINGLE.iter().map(|(name, about)| VariantDoc { name: (*name).into(), about: (*about).into() }));
    out.push(VariantDoc { name: "fixed".into(), about: "every fix".into() });
    out
}

/// The names of the single-fix variants.
pub fn single_fixes() -> impl Iterator<Item = &'static str> {
    SINGLE.iter().map(|(name, _)| *name)
}
