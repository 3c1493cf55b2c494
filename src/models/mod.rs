//! The shipped models, one folder each, and the registry that holds them.

pub mod adapters;
pub mod signaling;
pub mod sse;
pub mod tasks;

use crate::engine::model::Registry;

impl Registry {
    /// The shipped models: signaling, sse, adapters and tasks.
    pub fn builtin() -> Registry {
        Registry::empty().with(signaling::Signaling).with(sse::Sse).with(adapters::Adapters).with(tasks::Tasks)
    }
}
