//! The EventTracker's de-duplication window: the last `max_tracked` event ids, oldest first.
//!
//! Two implementations with identical behaviour: [`LinearWindow`] is the seed's
//! `VecDeque` that `record_event` scans with `seen.iter().any(..)`; [`IndexedWindow`] keeps
//! the same queue plus a hash map of copies for the membership test. Neither is ever iterated in
//! hash order, so the choice cannot change a run; `tests/sse_window.rs` checks that they agree.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};

/// Which window implementation a scenario uses (`[sse] window = "linear" | "indexed"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WindowKind {
    /// The seed's linear scan over a `VecDeque`.
    #[default]
    Linear,
    /// A hash map of copies beside the queue.
    Indexed,
}

impl WindowKind {
    /// The names the scenario field accepts.
    pub const NAMES: &'static [&'static str] = &["linear", "indexed"];

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<WindowKind> {
        match name {
            "linear" => Some(WindowKind::Linear),
            "indexed" => Some(WindowKind::Indexed),
            _ => None,
        }
    }
}

/// The seen-id window, exactly as the seed's `record_event` keeps it.
pub trait SeenWindow<K> {
    /// Whether `id` is among the tracked ids (the seed's duplicate check).
    fn contains(&self, id: &K) -> bool;
    /// Append `id` and, if the window now holds more than `max_tracked`, drop the oldest.
    /// The seed pushes only ids its check rejected, but two overlapping `record_event`s can
    /// both pass the check: the window then holds the id twice, as the seed's `VecDeque` would.
    fn push(&mut self, id: K, max_tracked: usize);
    /// The ids held, oldest first.
    fn ids(&self) -> Vec<K>;
    /// Number of ids held.
    fn len(&self) -> usize;
    /// Whether no id is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Forget every id (a process restart), keeping capacity.
    fn clear(&mut self);
}

/// The seed's window: a `VecDeque` scanned front to back.
#[derive(Clone, Debug, Default)]
pub struct LinearWindow<K> {
    seen: VecDeque<K>,
}

impl<K> LinearWindow<K> {
    /// An empty window with room for `max_tracked` ids (`VecDeque::with_capacity`).
    pub fn new(max_tracked: usize) -> Self {
        LinearWindow { seen: VecDeque::with_capacity(max_tracked) }
    }
}

impl<K: PartialEq + Clone> SeenWindow<K> for LinearWindow<K> {
    fn contains(&self, id: &K) -> bool {
        self.seen.iter().any(|s| s == id)
    }

    fn push(&mut self, id: K, max_tracked: usize) {
        self.seen.push_back(id);
        if self.seen.len() > max_tracked {
            self.seen.pop_front();
        }
    }

    fn ids(&self) -> Vec<K> {
        self.seen.iter().cloned().collect()
    }

    fn len(&self) -> usize {
        self.seen.len()
    }

    fn clear(&mut self) {
        self.seen.clear();
    }
}

/// The same window with a hash map of copies held for membership: O(1) instead of
/// O(max_tracked).
///
/// The hasher is the fixed-key `DefaultHasher` so that timings do not vary from run to run;
/// membership never depends on it.
#[derive(Clone, Debug)]
pub struct IndexedWindow<K, S = BuildHasherDefault<DefaultHasher>> {
    order: VecDeque<K>,
    index: HashMap<K, u32, S>,
}

impl<K> IndexedWindow<K> {
    /// An empty window with room for `max_tracked` ids.
    pub fn new(max_tracked: usize) -> Self {
        IndexedWindow {
            order: VecDeque::with_capacity(max_tracked),
            index: HashMap::with_capacity_and_hasher(max_tracked + 1, BuildHasherDefault::default()),
        }
    }
}

impl<K: Eq + Hash + Clone, S: BuildHasher> SeenWindow<K> for IndexedWindow<K, S> {
    fn contains(&self, id: &K) -> bool {
        self.index.contains_key(id)
    }

    fn push(&mut self, id: K, max_tracked: usize) {
        *self.index.entry(id.clone()).or_insert(0) += 1;
        self.order.push_back(id);
        if self.order.len() > max_tracked
            && let Some(old) = self.order.pop_front()
            && let Some(n) = self.index.get_mut(&old)
        {
            *n -= 1;
            if *n == 0 {
                self.index.remove(&old);
            }
        }
    }

    fn ids(&self) -> Vec<K> {
        self.order.iter().cloned().collect()
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn clear(&mut self) {
        self.order.clear();
        self.index.clear();
    }
}

/// Either window, chosen per scenario.
#[derive(Clone, Debug)]
pub enum Window<K> {
    /// The seed's scan.
    Linear(LinearWindow<K>),
    /// Hash set + queue.
    Indexed(IndexedWindow<K>),
}

impl<K> Window<K> {
    /// An empty window of `kind` sized for `max_tracked`.
    pub fn new(kind: WindowKind, max_tracked: usize) -> Self {
        match kind {
            WindowKind::Linear => Window::Linear(LinearWindow::new(max_tracked)),
            WindowKind::Indexed => Window::Indexed(IndexedWindow::new(max_tracked)),
        }
    }
}

impl<K: Eq + Hash + Clone> SeenWindow<K> for Window<K> {
    fn contains(&self, id: &K) -> bool {
        match self {
            Window::Linear(w) => w.contains(id),
            Window::Indexed(w) => w.contains(id),
        }
    }

    fn push(&mut self, id: K, max_tracked: usize) {
        match self {
            Window::Linear(w) => w.push(id, max_tracked),
            Window::Indexed(w) => w.push(id, max_tracked),
        }
    }

    fn ids(&self) -> Vec<K> {
        match self {
            Window::Linear(w) => w.ids(),
            Window::Indexed(w) => w.ids(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Window::Linear(w) => w.len(),
            Window::Indexed(w) => w.len(),
        }
    }

    fn clear(&mut self) {
        match self {
            Window::Linear(w) => w.clear(),
            Window::Indexed(w) => w.clear(),
        }
    }
}
