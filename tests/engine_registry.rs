//! The open engine: models come in through a registry value, the parsed scenario keeps the
//! model it resolved, and a scheduling error names the systems involved.

use racelab::engine::schedule::{Stage, TickSchedule};
use racelab::engine::{Limits, faults::FaultPlan};
use racelab::prelude::*;

/// A model with one variant and no steps: enough to be registered and run.
struct Quiet;

impl Model for Quiet {
    fn name(&self) -> &'static str {
        "quiet"
    }
    fn about(&self) -> &'static str {
        "does nothing"
    }
    fn steps(&self) -> &'static [StepDoc] {
        &[]
    }
    fn variant_docs(&self, _: Option<&Scenario>) -> Vec<VariantDoc> {
        vec![VariantDoc { name: "only".into(), about: String::new() }]
    }
    fn invariants(&self, _: Option<&Scenario>) -> Vec<String> {
        vec!["never".into()]
    }
    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        Ok(ModelConfig::new(scenario.name.len()))
    }
    fn install(&self, _app: &mut App, scenario: &Scenario, _variant: &str) -> Result<(), ScenarioError> {
        // The typed configuration parsed once by `configure`.
        assert_eq!(*scenario.config::<usize>(), scenario.name.len());
        Ok(())
    }
}

const FILE: &str = "name = \"q\"\nmodel = \"quiet\"\n\n[[expect]]\nvariant = \"only\"\nholds = true\n";

#[test]
fn a_model_is_known_only_to_the_registry_that_holds_it() {
    let e = Scenario::parse(&Registry::builtin(), "q.toml", FILE).unwrap_err().to_string();
    assert!(
        e.starts_with("q.toml:2:9: unknown model `quiet`; expected one of: signaling, sse, adapters, tasks"),
        "{e}"
    );

    let registry = Registry::builtin().with(Quiet);
    assert_eq!(registry.names(), ["signaling", "sse", "adapters", "tasks", "quiet"]);
    let s = Scenario::parse(&registry, "q.toml", FILE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.model_impl().name(), "quiet");
    let mut sim = Sim::new(&s, "only").expect("builds from the scenario alone");
    assert!(sim.seed(3).verdict.is_pass());

    // Adding a model of the same name replaces it.
    assert_eq!(registry.clone().with(Quiet).names().len(), 5);
}

#[derive(Resource, Default)]
struct Shared(u32);

fn writer_a(mut s: ResMut<Shared>) {
    s.0 += 1;
}

fn writer_b(mut s: ResMut<Shared>) {
    s.0 *= 2;
}

#[test]
fn an_ambiguity_is_an_error_naming_both_systems() {
    let err = Sim::custom("ambiguous", FaultPlan::calm(), Limits { max_ticks: 10, max_messages: 10 }, |app| {
        app.init_resource::<Shared>();
        // Two systems writing one resource with no order between them.
        app.add_systems(TickSchedule, (writer_a, writer_b).in_set(Stage::Model));
    })
    .err()
    .expect("the schedule is rejected");
    assert!(err.contains("writer_a") && err.contains("writer_b"), "{err}");
}
