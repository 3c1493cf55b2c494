//! Scripted steps the model accepts: outside events on a timeline (a shutdown signal, a
//! task started by something outside the programs).

use super::spec::{Spec, names, value_of};
use super::value::Value;
use crate::engine::Id;
use crate::engine::model::StepDoc;
use crate::engine::trace::{Args, Describe};
use crate::scenario::{ScenarioError, Source, Step};

/// The steps, for `racelab` help and errors.
pub const STEPS: &[StepDoc] = &[
    StepDoc { name: "spawn", fields: &["task"], about: "start a new instance of a task (it runs from the next tick)" },
    StepDoc { name: "cancel", fields: &["task"], about: "cancel every running instance of a task" },
    StepDoc { name: "write", fields: &["var", "value"], about: "set a shared variable from outside the tasks" },
];

/// A step as read from the file.
#[derive(Clone, Debug)]
pub enum StepSpec {
    /// `do = "spawn"`.
    Spawn(String),
    /// `do = "cancel"`.
    Cancel(String),
    /// `do = "write"`.
    Write(String, Value),
}

/// Read one step, checking the names it uses against `spec`.
pub fn parse_step(src: &Source, step: &Step, spec: &Spec) -> Result<StepSpec, ScenarioError> {
    let task = |field: &str| -> Result<String, ScenarioError> {
        let name = step.str(src, field)?;
        if !spec.tasks.iter().any(|t| t.name == name) {
            let span = step.table.get(field).map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
            return Err(src.error(
                span,
                format!(
                    "undefined task `{name}`; declared tasks: {}",
                    names(spec.tasks.iter().map(|t| t.name.as_str()))
                ),
            ));
        }
        Ok(name)
    };
    Ok(match step.kind.as_str() {
        "spawn" => {
            step.deny_unknown(src, &["task"])?;
            StepSpec::Spawn(task("task")?)
        }
        "cancel" => {
            step.deny_unknown(src, &["task"])?;
            StepSpec::Cancel(task("task")?)
        }
        _ => {
            step.deny_unknown(src, &["var", "value"])?;
            let var = step.str(src, "var")?;
            if !spec.shared.iter().any(|(n, _)| *n == var) {
                let span = step.table.get("var").map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
                return Err(src.error(
                    span,
                    format!(
                        "undefined shared variable `{var}`; declared in [shared]: {}",
                        names(spec.shared.iter().map(|(n, _)| n.as_str()))
                    ),
                ));
            }
            let value = match step.table.get("value") {
                Some(v) => value_of(src, v, "value")?,
                None => return Err(src.error(step.table.span.clone(), "step `write` needs a `value` field")),
            };
            StepSpec::Write(var, value)
        }
    })
}

/// A step resolved for running.
#[derive(Clone, Debug)]
pub enum Action {
    /// Start an instance of task `task` (index), whose name has id `id`.
    Spawn { task: u16, id: Id },
    /// Cancel every instance of task `task`.
    Cancel { task: u16, id: Id },
    /// Set shared variable `var`.
    Write { var: u16, id: Id, value: Value },
}

impl Describe for Action {
    fn label(&self) -> &'static str {
        match self {
            Action::Spawn { .. } => "spawn",
            Action::Cancel { .. } => "cancel",
            Action::Write { .. } => "write",
        }
    }

    fn target(&self) -> Id {
        match self {
            Action::Spawn { id, .. } | Action::Cancel { id, .. } | Action::Write { id, .. } => *id,
        }
    }

    fn args(&self) -> Args {
        match self {
            Action::Write { value: Value::Int(i), .. } if *i >= 0 => Args::EMPTY.u("value", *i as u64),
            Action::Write { value: Value::Bool(b), .. } => Args::EMPTY.b("value", *b),
            _ => Args::EMPTY,
        }
    }
}
