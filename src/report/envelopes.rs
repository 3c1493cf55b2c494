//! Pairing each envelope's send with its delivery.
//!
//! Envelope numbers are unique only within one message type (each wire counts its own), so a
//! send is matched to a delivery by envelope number, sender, receiver and message name
//! together; if two wires ever share all four, the earliest unmatched send wins, which is the
//! order the wire itself keeps.

use crate::engine::Id;
use crate::engine::trace::{Event, EventKind};
use std::collections::BTreeMap;

/// Whether `kind` puts an envelope on the wire (or loses it there): the event's actor is the
/// sender and its other party the receiver.
pub fn is_send_like(kind: EventKind) -> bool {
    matches!(kind, EventKind::Send | EventKind::Duplicate | EventKind::Hold | EventKind::Drop)
}

/// For every event of a trace, the index of its partner: a send's delivery, a delivery's send.
#[derive(Clone, Debug, Default)]
pub struct Links {
    partner: Vec<Option<usize>>,
}

type Key = (u64, Id, Id, &'static str);

impl Links {
    /// Pair the wire events of `events`.
    pub fn pair(events: &[Event]) -> Links {
        let mut partner = vec![None; events.len()];
        let mut open: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            if e.env == 0 {
                continue;
            }
            match e.kind {
                // A dropped envelope never arrives: nothing to pair.
                EventKind::Send | EventKind::Duplicate | EventKind::Hold => {
                    open.entry((e.env, e.actor, e.other, e.what)).or_default().push(i);
                }
                EventKind::Deliver => {
                    if let Some(sends) = open.get_mut(&(e.env, e.other, e.actor, e.what))
                        && !sends.is_empty()
                    {
                        let s = sends.remove(0);
                        partner[s] = Some(i);
                        partner[i] = Some(s);
                    }
                }
                _ => {}
            }
        }
        Links { partner }
    }

    /// The partner of event `i`, if it has one.
    pub fn partner(&self, i: usize) -> Option<usize> {
        self.partner.get(i).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::trace::EventKind::*;

    fn ev(tick: u64, kind: EventKind, actor: u32, other: u32, what: &'static str, env: u64) -> Event {
        Event { env, ..Event::new(tick, kind, Id(actor), what).other(Id(other)) }
    }

    #[test]
    fn pairs_by_envelope_and_endpoints_not_by_number_alone() {
        let events = vec![
            ev(1, Send, 1, 2, "offer", 1),
            ev(1, Send, 3, 4, "tick", 1), // another wire's envelope 1
            ev(2, Drop, 1, 2, "offer", 2),
            ev(3, Deliver, 4, 3, "tick", 1),
            ev(5, Deliver, 2, 1, "offer", 1),
        ];
        let links = Links::pair(&events);
        assert_eq!(links.partner(0), Some(4));
        assert_eq!(links.partner(1), Some(3));
        assert_eq!(links.partner(2), None);
        assert_eq!(links.partner(3), Some(1));
        assert_eq!(links.partner(4), Some(0));
    }
}
