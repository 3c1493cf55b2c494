//! Stable ids: the names a model gives its actors ("peer:P1", "client#2").
//!
//! Traces and replay files never contain `Entity` values (their numbering and reuse
//! are not stable); they name things by the strings interned here.

use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;
// Looked up, never iterated: the hasher cannot leak into an order.
use bevy_platform::collections::HashMap;

/// A stable id: an index into [`Names`]. Compare and copy freely; print through [`Names`].
///
/// As a component it names its entity: the engine keeps [`IdIndex`] up to date whenever an
/// `Id` is inserted or removed, so a model looks entities up by id without a map of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Component)]
#[component(on_insert = index_id, on_discard = unindex_id)]
pub struct Id(pub u32);

/// From stable id to the entity that carries it (looked up, never iterated).
#[derive(Debug, Default)]
pub struct IdIndex(HashMap<Id, Entity>);

impl IdIndex {
    /// The entity carrying `id`.
    pub fn get(&self, id: Id) -> Option<Entity> {
        self.0.get(&id).copied()
    }

    /// How many ids name an entity.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no entity carries an id.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forget every entry (start of a run).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

fn index_id(mut world: DeferredWorld, cx: HookContext) {
    let Some(&id) = world.get::<Id>(cx.entity) else { return };
    if let Some(mut engine) = world.get_resource_mut::<crate::engine::Engine>() {
        engine.index.0.insert(id, cx.entity);
    }
}

fn unindex_id(mut world: DeferredWorld, cx: HookContext) {
    let Some(&id) = world.get::<Id>(cx.entity) else { return };
    if let Some(mut engine) = world.get_resource_mut::<crate::engine::Engine>()
        && engine.index.0.get(&id) == Some(&cx.entity)
    {
        engine.index.0.remove(&id);
    }
}

impl Id {
    /// "No actor": index 0 is reserved for the empty name.
    pub const NONE: Id = Id(0);

    /// Whether this is [`Id::NONE`].
    pub fn is_none(self) -> bool {
        self == Id::NONE
    }
}

/// The intern table of stable ids. It survives between runs of one [`crate::engine::Sim`]:
/// interning is idempotent, so a name keeps its index, and names are never printed by index.
#[derive(Debug, Clone)]
pub struct Names {
    list: Vec<String>,
    index: HashMap<String, Id>,
    /// Each name folded into one word, for the trace hash.
    words: Vec<u64>,
}

impl Default for Names {
    fn default() -> Self {
        let mut names = Names { list: Vec::new(), index: HashMap::default(), words: Vec::new() };
        names.intern("");
        names
    }
}

impl Names {
    /// Move the table out, leaving an empty one in its place that allocates nothing (unlike
    /// [`Names::default`], which interns the empty name). The placeholder is for putting the
    /// table back: it must not be used to name anything meanwhile.
    pub fn take(&mut self) -> Names {
        std::mem::replace(self, Names::placeholder())
    }

    /// The empty table [`Names::take`] leaves, for a place that holds a lent table only at
    /// times: it allocates nothing, and must not be used to name anything.
    pub fn placeholder() -> Names {
        Names { list: Vec::new(), index: HashMap::default(), words: Vec::new() }
    }

    /// Put `names` in the place of a [`Names::placeholder`] (what [`Names::take`] left). The placeholder is
    /// forgotten rather than dropped: it allocated nothing, and its drop glue cost a call per
    /// hand-back (a model that lends its names out on every step pays it on every step).
    pub fn put_back(&mut self, names: Names) {
        debug_assert!(self.list.is_empty(), "put_back replaces the placeholder take left, not a table");
        std::mem::forget(std::mem::replace(self, names));
    }

    /// The id of `name`, creating it on first use.
    pub fn intern(&mut self, name: &str) -> Id {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = Id(self.list.len() as u32);
        self.list.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        self.words.push(crate::engine::hash::name_word(name));
        id
    }

    /// How many names are interned (the empty name included).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether only the empty name is interned.
    pub fn is_empty(&self) -> bool {
        self.list.len() <= 1
    }

    /// Forget every name interned after the first `len`, so the next run numbers its ids
    /// exactly as a fresh world would (ids order `BTreeMap`s, so they must not depend on
    /// which runs came before).
    pub fn truncate(&mut self, len: usize) {
        let keep = len.max(1).min(self.list.len());
        for name in self.list.drain(keep..) {
            self.index.remove(&name);
        }
        self.words.truncate(keep);
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<Id> {
        self.index.get(name).copied()
    }

    /// The name of `id` ("" for [`Id::NONE`] or an unknown id).
    pub fn name(&self, id: Id) -> &str {
        self.list.get(id.0 as usize).map(String::as_str).unwrap_or("")
    }

    /// The name of `id` folded into one word for the trace hash (the empty name's for an
    /// unknown id, as [`Names::name`] gives the empty name).
    pub(crate) fn word(&self, id: Id) -> u64 {
        self.words.get(id.0 as usize).copied().unwrap_or(crate::engine::hash::EMPTY_NAME_WORD)
    }
}
