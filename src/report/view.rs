//! What every report shows: one run's events, their envelopes paired, the ids the verdict
//! names, and optionally only the events touching a few ids.

use crate::engine::trace::{Event, EventKind, Val};
use crate::engine::{Id, Names, Outcome, Verdict};
use crate::report::envelopes::Links;
use std::collections::BTreeSet;

/// One run prepared for reporting.
pub struct View<'a> {
    /// How the run ended.
    pub outcome: &'a Outcome,
    /// To print ids.
    pub names: &'a Names,
    /// Every event of the run.
    pub events: &'a [Event],
    /// Each wire event's partner (send <-> delivery), over all events.
    pub links: Links,
    /// Indexes into `events` of the events shown (all of them unless focused).
    pub shown: Vec<usize>,
    /// The ids the verdict names, in the verdict's order.
    pub named: Vec<Id>,
    /// The ids the view is focused on (empty: no focus).
    pub focus: Vec<Id>,
    /// The command that reproduces the run, if known.
    pub reproduce: Option<String>,
    /// Extra header lines (where the run came from, what shrinking did).
    pub remarks: Vec<String>,
}

impl<'a> View<'a> {
    /// A view of the run up to its last broken invariant (the whole run if it broke none):
    /// what came after is not part of any race it shows. Every break after the first is
    /// named in a header line.
    pub fn new(events: &'a [Event], names: &'a Names, outcome: &'a Outcome) -> View<'a> {
        let named_strs: &[String] = match &outcome.verdict {
            Verdict::Violation { ids, .. } | Verdict::Liveness { ids, .. } => ids,
            _ => &[],
        };
        let named = named_strs.iter().filter_map(|s| names.get(s)).collect();
        let mut remarks = Vec::new();
        if outcome.violations.len() > 1 {
            let others: Vec<String> = outcome.violations[1..]
                .iter()
                .map(|v| match v {
                    Verdict::Violation { invariant, tick, .. } => format!("{invariant} at tick {tick}"),
                    Verdict::Liveness { monitor, tick, .. } => format!("{monitor} at tick {tick}"),
                    other => other.summary(),
                })
                .collect();
            remarks.push(format!("the run went on and also broke: {}", others.join(", ")));
        }
        let end = events.iter().rposition(|e| e.kind == EventKind::Violation).map_or(events.len(), |i| i + 1);
        if end < events.len() {
            remarks.push(format!("{} events after the last violation are not shown", events.len() - end));
        }
        let events = &events[..end];
        View {
            outcome,
            names,
            events,
            links: Links::pair(events),
            shown: (0..events.len()).collect(),
            named,
            focus: Vec::new(),
            reproduce: None,
            remarks,
        }
    }

    /// Show only the events touching one of `ids` (as actor, other party or argument); the
    /// violation and the state changes of the ids it names are always shown. An empty list
    /// shows everything.
    pub fn focus(mut self, ids: Vec<Id>) -> Self {
        self.shown = (0..self.events.len())
            .filter(|&i| {
                let e = &self.events[i];
                ids.is_empty() || e.kind == EventKind::Violation || self.is_named_state(e) || touches(e, &ids)
            })
            .collect();
        self.focus = ids;
        self
    }

    /// Set the command that reproduces the run.
    pub fn reproduce(mut self, command: impl Into<String>) -> Self {
        self.reproduce = Some(command.into());
        self
    }

    /// Add a header line.
    pub fn remark(mut self, line: impl Into<String>) -> Self {
        self.remarks.push(line.into());
        self
    }

    /// The name of `id`.
    pub fn name(&self, id: Id) -> &str {
        self.names.name(id)
    }

    /// The index of the event of the verdict's violation (the run's first break).
    pub fn violation(&self) -> Option<usize> {
        let check = self.outcome.verdict.failed_check();
        self.events
            .iter()
            .position(|e| e.kind == EventKind::Violation && Some(e.what) == check)
            .or_else(|| self.events.iter().position(|e| e.kind == EventKind::Violation))
    }

    /// Whether `e` is a state change of an id the verdict names.
    pub fn is_named_state(&self, e: &Event) -> bool {
        e.kind == EventKind::State && self.named.contains(&e.actor)
    }

    /// The states `id` went through: (tick, state), in order.
    pub fn states(&self, id: Id) -> Vec<(u64, &'static str)> {
        self.events.iter().filter(|e| e.kind == EventKind::State && e.actor == id).map(|e| (e.tick, e.what)).collect()
    }

    /// The ids taking part in `indexes` (actors and other parties), in order of first
    /// appearance.
    pub fn participants(&self, indexes: &[usize]) -> Vec<Id> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for &i in indexes {
            let e = &self.events[i];
            for id in [e.actor, e.other] {
                if !id.is_none() && seen.insert(id) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Every id this run's trace mentions, sorted by name.
    pub fn known_ids(&self) -> Vec<&str> {
        let mut set = BTreeSet::new();
        for e in self.events {
            for id in ids_of(e) {
                set.insert(self.names.name(id));
            }
        }
        set.into_iter().collect()
    }

    /// Look up ids by name; an id the trace never mentions is an error that lists those it does.
    pub fn resolve(&self, wanted: &[String]) -> Result<Vec<Id>, String> {
        let known = self.known_ids();
        wanted
            .iter()
            .map(|w| match self.names.get(w) {
                Some(id) if known.contains(&w.as_str()) => Ok(id),
                _ => Err(format!("`{w}` does not appear in this run; its ids are: {}", known.join(", "))),
            })
            .collect()
    }
}

/// The ids an event mentions: actor, other party, id-valued arguments.
pub fn ids_of(e: &Event) -> impl Iterator<Item = Id> + '_ {
    [e.actor, e.other]
        .into_iter()
        .chain(e.args.iter().filter_map(|(_, v)| if let Val::Id(id) = v { Some(id) } else { None }))
        .filter(|id| !id.is_none())
}

/// Whether `e` mentions one of `ids`.
pub fn touches(e: &Event, ids: &[Id]) -> bool {
    ids_of(e).any(|id| ids.contains(&id))
}
