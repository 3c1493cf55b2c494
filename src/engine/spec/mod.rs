//! The typed scenario a [`crate::engine::Sim`] is built from: spanned values, scripted steps,
//! expectations and located errors. Reading TOML into it is the scenario module's job; the
//! engine and the models only read it.

pub mod error;
pub mod value;

pub use error::{ScenarioError, Source};
pub use value::{Kind, Table, Value};

use crate::engine::faults::FaultPlan;
use crate::engine::model::{Model, ModelConfig};
use std::ops::Range;
use std::sync::Arc;

/// When a step happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// On this tick.
    Tick(u64),
    /// On a tick in `[lo, hi]` the tape picks (0 = `lo`).
    Window(u64, u64),
}

/// One `[[step]]`: its timing, its kind, and the rest of its fields for the model.
#[derive(Clone, Debug)]
pub struct Step {
    /// When.
    pub at: At,
    /// The step's kind (`do = "connect"`).
    pub kind: String,
    /// Where `do` stands.
    pub kind_span: Range<usize>,
    /// The whole step table, `at` and `do` included.
    pub table: Table,
}

impl Step {
    /// A required string field.
    pub fn str(&self, src: &Source, field: &str) -> Result<String, ScenarioError> {
        match self.table.get(field) {
            Some(v) => v.str(src, field).map(str::to_owned),
            None => Err(src.error(self.table.span.clone(), format!("step `{}` needs a `{field}` field", self.kind))),
        }
    }

    /// An optional string field.
    pub fn opt_str(&self, src: &Source, field: &str) -> Result<Option<String>, ScenarioError> {
        self.table.get(field).map(|v| v.str(src, field).map(str::to_owned)).transpose()
    }

    /// A required non-negative integer field.
    pub fn uint(&self, src: &Source, field: &str) -> Result<u64, ScenarioError> {
        match self.table.get(field) {
            Some(v) => v.uint(src, field),
            None => Err(src.error(self.table.span.clone(), format!("step `{}` needs a `{field}` field", self.kind))),
        }
    }

    /// An optional non-negative integer field.
    pub fn opt_uint(&self, src: &Source, field: &str) -> Result<Option<u64>, ScenarioError> {
        self.table.get(field).map(|v| v.uint(src, field)).transpose()
    }

    /// Fail on any field other than `at`, `do` and `allowed`.
    pub fn deny_unknown(&self, src: &Source, allowed: &[&str]) -> Result<(), ScenarioError> {
        let mut all = vec!["at", "do"];
        all.extend_from_slice(allowed);
        self.table.deny_unknown(src, &format!("step `{}`", self.kind), &all)
    }
}

/// What a scenario expects of a variant over its seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Every seed passes.
    Holds,
    /// `violates = [...]`: over the file's seeds, exactly these invariants and monitors are
    /// broken: each by some seed, and nothing else by any seed.
    Violates(Vec<String>),
    /// `includes = [...]`: each of these is broken by some seed; others may be too.
    Includes(Vec<String>),
}

/// One `[[expect]]`.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The variants it speaks of.
    pub variants: Vec<String>,
    /// What they should do.
    pub expected: Expected,
    /// Where it stands (for reports).
    pub span: Range<usize>,
}

/// A parsed, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The model `model` names, resolved through the registry the file was parsed with.
    pub resolved: ModelRef,
    /// The model's own fields, parsed once by [`Model::configure`].
    pub config: ModelConfig,
    /// The file and its text.
    pub source: Source,
    /// `name`.
    pub name: String,
    /// `model`.
    pub model: String,
    /// `about`: the race it reproduces.
    pub about: String,
    /// The variants to run (all the model's, unless the file lists some).
    pub variants: Vec<String>,
    /// Default seed range for `racelab run`.
    pub seeds: Range<u64>,
    /// The run halts after this tick.
    pub max_ticks: u64,
    /// The run halts after this many dispatched messages.
    pub max_messages: u64,
    /// The wire's faults.
    pub faults: FaultPlan,
    /// The scripted steps, in file order.
    pub steps: Vec<Step>,
    /// The expectations.
    pub expects: Vec<Expectation>,
    /// The whole document, for model-specific sections.
    pub doc: Table,
}

/// A resolved model, shared by every scenario that names it.
#[derive(Clone)]
pub struct ModelRef(pub Arc<dyn Model>);

impl std::fmt::Debug for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelRef({})", self.0.name())
    }
}

impl Scenario {
    /// The model this scenario runs.
    pub fn model_impl(&self) -> &dyn Model {
        &*self.resolved.0
    }

    /// The model's typed configuration (what its [`Model::configure`] returned).
    ///
    /// # Panics
    /// If `T` is not the type the model configured: a bug in the model, not in the file.
    pub fn config<T: 'static>(&self) -> &T {
        self.config
            .get::<T>()
            .unwrap_or_else(|| panic!("model `{}` read its configuration as the wrong type", self.model))
    }

    /// The expectation for `variant`, if the file states one.
    pub fn expectation(&self, variant: &str) -> Option<&Expectation> {
        self.expects.iter().find(|e| e.variants.iter().any(|v| v == variant))
    }

    /// An error located at `span` of this scenario's file.
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        self.source.error(span, message)
    }
}
