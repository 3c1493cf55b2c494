//! A min-queue by due tick, FIFO among items due on the same tick.
//!
//! Wires and timers both keep their pending items here. Storage is reused between runs
//! (`clear` keeps capacity), so the hot path allocates nothing once warm.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<T> {
    due: u64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due && self.seq == other.seq
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest (due, seq) on top.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// Items ordered by `(due, insertion order)`.
pub struct DueQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

impl<T> Default for DueQueue<T> {
    fn default() -> Self {
        DueQueue { heap: BinaryHeap::new(), seq: 0 }
    }
}

impl<T> DueQueue<T> {
    /// Queue `item` for tick `due`; returns its sequence number (unique within a run).
    pub fn push(&mut self, due: u64, item: T) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Entry { due, seq, item });
        seq
    }

    /// The earliest due tick.
    pub fn next_due(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.due)
    }

    /// Pop the earliest item if it is due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, u64, T)> {
        if self.heap.peek().is_some_and(|e| e.due <= now) {
            self.heap.pop().map(|e| (e.due, e.seq, e.item))
        } else {
            None
        }
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Empty the queue and restart sequence numbers, keeping capacity.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.seq = 0;
    }

    /// Remove every item for which `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.heap.retain(|e| keep(&e.item));
    }

    /// Iterate over queued items in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.heap.iter().map(|e| &e.item)
    }
}
