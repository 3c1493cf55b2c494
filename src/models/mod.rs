//! The modelled systems, one folder each, and the registry the engine looks them up in.

pub mod adapters;
pub mod signaling;
pub mod sse;
pub mod tasks;

use crate::engine::model::Model;

static MODELS: &[&dyn Model] = &[&signaling::Signaling, &sse::Sse, &adapters::Adapters, &tasks::Tasks];

/// Every model.
pub fn all() -> &'static [&'static dyn Model] {
    MODELS
}

/// The model named `name`.
pub fn find(name: &str) -> Option<&'static dyn Model> {
    MODELS.iter().copied().find(|m| m.name() == name)
}

/// The names of every model.
pub fn names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name()).collect()
}
