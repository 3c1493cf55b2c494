//! The variants: each audited bug is a switch, and a variant is a named set of switches.
//!
//! `baseline` has every bug as the sources describe it, `fixed` every fix, and each
//! single-fix variant repairs exactly one bug, so a matrix over the variants shows which fix
//! removes which violation.

use crate::engine::model::{VariantDoc, Variants};
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

impl Switches {
    /// No fix in: the code as audited.
    pub const BASELINE: Switches = Switches {
        shared_registry: false,
        unsubscribe_on_leave: false,
        peek_health_check: false,
        activity_health: false,
        capped_backoff: false,
        prune_registries: false,
    };

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
        VARIANTS.get(name)
    }
}

/// Every variant with its switches and what it repairs: `baseline` first, then each single
/// fix, `fixed` last.
pub const VARIANTS: Variants<Switches> = Variants::new(
    "adapters",
    &[
        (Switches::BASELINE, "baseline", "every bug as audited"),
        (
            Switches { shared_registry: true, ..Switches::BASELINE },
            "shared_registry",
            "only Clone shares the callback registry (seed 000's fix)",
        ),
        (
            Switches { unsubscribe_on_leave: true, ..Switches::BASELINE },
            "unsubscribe_on_leave",
            "only leave_channel() unsubscribes from EventSub (audit item 7)",
        ),
        (
            Switches { peek_health_check: true, ..Switches::BASELINE },
            "peek_health_check",
            "only the health validation peeks instead of consuming (audit item 8)",
        ),
        (
            Switches { activity_health: true, ..Switches::BASELINE },
            "activity_health",
            "only is_healthy() checks last activity (audit item 6)",
        ),
        (
            Switches { capped_backoff: true, ..Switches::BASELINE },
            "capped_backoff",
            "only reconnect backoff is capped and escalates (audit item 9)",
        ),
        (
            Switches { prune_registries: true, ..Switches::BASELINE },
            "prune_registries",
            "only leaving a channel prunes the lock and breaker registries (audit items 14, 15)",
        ),
        (Switches::FIXED, "fixed", "every fix"),
    ],
);

/// Every variant with its description, `baseline` first and `fixed` last.
pub fn docs() -> Vec<VariantDoc> {
    VARIANTS.docs()
}

/// The names of the single-fix variants.
pub fn single_fixes() -> impl Iterator<Item = &'static str> {
    VARIANTS.names().into_iter().filter(|n| *n != "baseline" && *n != "fixed")
}
