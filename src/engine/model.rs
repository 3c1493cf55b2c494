//! The contract between the engine and a modelled system, and the registry of models.
//!
//! A model is a Bevy plugin plus the knowledge of its own scenario fields. The engine never
//! names a model: whoever parses a scenario passes a [`Registry`], the parsed scenario keeps
//! the model it resolved, and [`crate::engine::Sim`] installs that model. A user's crate adds
//! its own with [`Registry::with`] and gets every command of the CLI for it.

use crate::engine::spec::{Scenario, ScenarioError};
use bevy_app::App;
use std::any::Any;
use std::sync::Arc;

/// A step kind a model accepts in `[[step]]`.
#[derive(Clone, Copy, Debug)]
pub struct StepDoc {
    /// The `do = "..."` name.
    pub name: &'static str,
    /// Its fields besides `at` and `do`.
    pub fields: &'static [&'static str],
    /// What it does.
    pub about: &'static str,
}

/// A named variant with a one-line description.
#[derive(Clone, Debug)]
pub struct VariantDoc {
    /// The name scenarios use.
    pub name: String,
    /// What it models.
    pub about: String,
}

/// A model's fixed variants: each a value of the model's own type, a name and a line on it.
///
/// ```
/// use racelab::prelude::*;
///
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// enum Fix { Bug, Guard }
///
/// const VARIANTS: Variants<Fix> = Variants::new("socket", &[
///     (Fix::Bug, "bug", "the close callback of the old socket clears the new one"),
///     (Fix::Guard, "guard", "the callback checks that its socket is still current"),
/// ]);
/// assert_eq!(VARIANTS.get("guard"), Some(Fix::Guard));
/// assert_eq!(VARIANTS.names(), vec!["bug", "guard"]);
/// ```
pub struct Variants<V: 'static> {
    model: &'static str,
    list: &'static [(V, &'static str, &'static str)],
}

impl<V: Copy + 'static> Variants<V> {
    /// The variants of `model`: `(value, name, about)` in the order `racelab list` shows.
    pub const fn new(model: &'static str, list: &'static [(V, &'static str, &'static str)]) -> Self {
        Variants { model, list }
    }

    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<V> {
        self.list.iter().find(|v| v.1 == name).map(|v| v.0)
    }

    /// The value named `name`, or an error for `scenario` listing the known names.
    pub fn parse(&self, scenario: &Scenario, name: &str) -> Result<V, ScenarioError> {
        self.get(name).ok_or_else(|| {
            ScenarioError::whole_file(
                &scenario.source.file,
                format!(
                    "unknown variant `{name}` of model `{}`; expected one of: {}",
                    self.model,
                    self.names().join(", ")
                ),
            )
        })
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|v| v.1).collect()
    }

    /// The names with their descriptions, for [`Model::variant_docs`].
    pub fn docs(&self) -> Vec<VariantDoc> {
        self.list.iter().map(|v| VariantDoc { name: v.1.to_owned(), about: v.2.to_owned() }).collect()
    }

    /// The name of `value`.
    pub fn name_of(&self, value: V) -> &'static str
    where
        V: PartialEq,
    {
        self.list.iter().find(|v| v.0 == value).map_or("", |v| v.1)
    }
}

/// A model's own scenario fields, parsed once by [`Model::configure`] and handed to
/// [`Model::install`] through [`Scenario::config`].
#[derive(Clone)]
pub struct ModelConfig(Option<Arc<dyn Any + Send + Sync>>);

impl ModelConfig {
    /// Wrap a model's typed configuration.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        ModelConfig(Some(Arc::new(value)))
    }

    /// No configuration (before the model has configured the scenario).
    pub fn none() -> Self {
        ModelConfig(None)
    }

    /// The configuration as `T`, if it is one.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.as_deref().and_then(|c| c.downcast_ref::<T>())
    }
}

impl std::fmt::Debug for ModelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ModelConfig(..)" } else { "ModelConfig(none)" })
    }
}

/// A modelled system.
///
/// `configure` runs once when a scenario is parsed and returns the model's typed view of the
/// file (its steps as actions, its sections as parameters); `install` reads it back with
/// [`Scenario::config`] and adds the model's plugin. Nothing is parsed twice.
pub trait Model: Send + Sync + 'static {
    /// The name scenarios use (`model = "signaling"`).
    fn name(&self) -> &'static str;
    /// One line on what is modelled.
    fn about(&self) -> &'static str;
    /// The steps it accepts.
    fn steps(&self) -> &'static [StepDoc];
    /// Extra top-level sections it reads from the scenario (beside the common ones).
    fn sections(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its variants; with a configured scenario, as that file sees them (a model may let
    /// files define their own).
    fn variant_docs(&self, scenario: Option<&Scenario>) -> Vec<VariantDoc>;
    /// Names of its variants for `scenario`.
    fn variants(&self, scenario: &Scenario) -> Vec<String> {
        self.variant_docs(Some(scenario)).into_iter().map(|v| v.name).collect()
    }
    /// The invariants and liveness monitors it checks, by name.
    fn invariants(&self, scenario: Option<&Scenario>) -> Vec<String>;
    /// Parse and check the model's own parts of `scenario` (step fields, sections), once.
    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError>;
    /// Add the model's plugin, configured for `scenario` and `variant`, to `app`.
    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError>;
}

/// The models a scenario may name.
///
/// ```
/// use racelab::prelude::*;
/// let registry = Registry::builtin();
/// assert!(registry.find("signaling").is_some());
/// assert!(registry.names().contains(&"tasks"));
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    models: Vec<Arc<dyn Model>>,
}

impl Registry {
    /// A registry with no model.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// This registry with `model` added (replacing a model of the same name).
    pub fn with(mut self, model: impl Model) -> Self {
        self.models.retain(|m| m.name() != model.name());
        self.models.push(Arc::new(model));
        self
    }

    /// The model named `name`.
    pub fn find(&self, name: &str) -> Option<&Arc<dyn Model>> {
        self.models.iter().find(|m| m.name() == name)
    }

    /// The names of every model, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.models.iter().map(|m| m.name()).collect()
    }

    /// Every model, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Model> {
        self.models.iter().map(|m| &**m)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
