//! placeholder
use crate::engine::model::*;
use crate::scenario::*;
use bevy_app::App;
pub struct Signaling;
impl Model for Signaling {
    fn name(&self) -> &'static str { "signaling" }
    fn about(&self) -> &'static str { "" }
    fn steps(&self) -> &'static [StepDoc] { &[] }
    fn variant_docs(&self, _s: Option<&Scenario>) -> Vec<VariantDoc> { vec![] }
    fn invariants(&self, _s: Option<&Scenario>) -> Vec<String> { vec![] }
    fn validate(&self, _s: &Scenario) -> Result<(), ScenarioError> { Ok(()) }
    fn install(&self, _a: &mut App, _s: &Scenario, _v: &str) -> Result<(), ScenarioError> { Ok(()) }
}
