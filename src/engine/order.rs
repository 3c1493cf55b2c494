//! Choosing the delivery order of envelopes due on the same tick.
//!
//! The tape picks the next envelope among the eligible ones (value 0: the earliest sent, so
//! a calm tape keeps FIFO). On FIFO links only the oldest envelope of each link is eligible;
//! when it is taken, the next one of its link becomes eligible. A Fenwick tree over the
//! batch finds the k-th eligible envelope in O(log n), so a tick with 10,000 envelopes
//! costs 10,000 draws and no quadratic scan. Buffers are reused between ticks.

// Looked up, never iterated.
use bevy_platform::collections::HashMap;
use std::hash::Hash;

/// Reusable state for ordering one batch.
#[derive(Debug, Default)]
pub struct Picker<L> {
    tree: Vec<u32>,
    next_same: Vec<usize>,
    last_of: HashMap<L, usize>,
    order: Vec<usize>,
}

impl<L: Hash + Eq + Copy> Picker<L> {
    /// Order a batch of `links.len()` envelopes (in send order). `choose(n, nth)` must return
    /// a value in `0..n`; it is called once per position but the last, and `nth(k)` tells
    /// which batch index the value `k` would take (for strategies that weigh senders). With
    /// `fifo`, envelopes of one link keep their order. Returns the batch indices in delivery order.
    pub fn order(
        &mut self,
        links: &[L],
        fifo: bool,
        mut choose: impl FnMut(u32, &dyn Fn(u32) -> usize) -> u32,
    ) -> &[usize] {
        let n = links.len();
        self.tree.clear();
        self.tree.resize(n + 1, 0);
        self.next_same.clear();
        self.next_same.resize(n, usize::MAX);
        self.order.clear();
        self.last_of.clear();
        let mut eligible = 0u32;
        for (i, link) in links.iter().enumerate() {
            let first = if fifo {
                match self.last_of.insert(*link, i) {
                    Some(prev) => {
                        self.next_same[prev] = i;
                        false
                    }
                    None => true,
                }
            } else {
                true
            };
            if first {
                self.add(i, 1);
                eligible += 1;
            }
        }
        for _ in 0..n {
            let k = if eligible > 1 { choose(eligible, &|k| self.kth(k)).min(eligible - 1) } else { 0 };
            let i = self.kth(k);
            self.add(i, -1);
            eligible -= 1;
            if fifo && self.next_same[i] != usize::MAX {
                self.add(self.next_same[i], 1);
                eligible += 1;
            }
            self.order.push(i);
        }
        &self.order
    }

    fn add(&mut self, i: usize, delta: i32) {
        let mut x = i + 1;
        while x < self.tree.len() {
            self.tree[x] = self.tree[x].wrapping_add_signed(delta);
            x += x & x.wrapping_neg();
        }
    }

    /// Index of the k-th (0-based) eligible position.
    fn kth(&self, k: u32) -> usize {
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut rem = k + 1;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] < rem {
                pos = next;
                rem -= self.tree[next];
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::Picker;

    #[test]
    fn calm_choices_keep_send_order() {
        let mut p = Picker::default();
        assert_eq!(p.order(&[1, 2, 1, 3, 2], true, |_, _| 0), &[0, 1, 2, 3, 4]);
        assert_eq!(p.order(&[1, 2, 1, 3, 2], false, |_, _| 0), &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn fifo_links_never_overtake_themselves() {
        let mut p = Picker::default();
        // Always take the last eligible one.
        let order = p.order(&[7, 7, 7, 8], true, |n, _| n - 1).to_vec();
        assert_eq!(order, vec![3, 0, 1, 2]);
        let order = p.order(&[7, 7, 7, 8], false, |n, _| n - 1).to_vec();
        assert_eq!(order, vec![3, 2, 1, 0]);
    }

    #[test]
    fn every_permutation_of_independent_links_is_reachable() {
        let mut p = Picker::default();
        let mut seen = std::collections::BTreeSet::new();
        for a in 0..3 {
            for b in 0..2 {
                let mut picks = [a, b].into_iter();
                seen.insert(p.order(&[1, 2, 3], true, |_, _| picks.next().unwrap_or(0)).to_vec());
            }
        }
        assert_eq!(seen.len(), 6);
    }
}
