//! The contract between the engine and a modelled system.
//!
//! A model is a Bevy plugin plus the knowledge of its own scenario fields. The engine never
//! names a model; it asks the registry (`crate::models`) for the one a scenario names and
//! talks to it through this trait.

use crate::scenario::{Scenario, ScenarioError};
use bevy_app::App;

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

/// A modelled system.
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
    /// Its variants as `scenario` sees them (a model may let files define their own).
    fn variant_docs(&self, scenario: Option<&Scenario>) -> Vec<VariantDoc>;
    /// Names of its variants for `scenario`.
    fn variants(&self, scenario: &Scenario) -> Vec<String> {
        self.variant_docs(Some(scenario)).into_iter().map(|v| v.name).collect()
    }
    /// The invariants and liveness monitors it checks, by name.
    fn invariants(&self, scenario: Option<&Scenario>) -> Vec<String>;
    /// Check the model's own parts of `scenario` (step fields, sections).
    fn validate(&self, scenario: &Scenario) -> Result<(), ScenarioError>;
    /// Add the model's plugin, configured for `scenario` and `variant`, to `app`.
    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError>;
}
