//! Evaluating compiled expressions against an environment: a task's locals, or (for
//! final checks) the shared state, service state, event counts and task outcomes.

use super::program::CExpr;
use super::value::{Key, Value};

/// What an expression can see. Programs see their locals; final checks see the rest.
pub trait Env {
    /// A local.
    fn local(&self, _i: u16) -> Value {
        Value::None
    }
    /// A shared variable.
    fn shared(&self, _i: u16) -> Value {
        Value::None
    }
    /// A service's state variable.
    fn service_var(&self, _s: u16, _v: u16) -> Value {
        Value::None
    }
    /// How many times an event was emitted.
    fn count(&self, _e: u16) -> u64 {
        0
    }
    /// Instances (of one task, or all) that ended in the way `how` says.
    fn ended(&self, _task: Option<u16>, _how: Ended) -> u64 {
        0
    }
    /// What the first instance of a task returned.
    fn result(&self, _task: u16) -> Value {
        Value::None
    }
}

/// Ways a task can have ended, for `failed`, `finished`, `cancelled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// In `fail`.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Any way.
    Any,
}

/// A task's locals and the shared variables: what a `wait until` condition sees.
pub struct LocalsShared<'a>(pub &'a [Value], pub &'a [Value]);

impl Env for LocalsShared<'_> {
    fn local(&self, i: u16) -> Value {
        self.0.get(i as usize).cloned().unwrap_or_default()
    }
    fn shared(&self, i: u16) -> Value {
        self.1.get(i as usize).cloned().unwrap_or_default()
    }
}

/// Locals only: what a task program or service handler sees.
pub struct Locals<'a>(pub &'a [Value]);

impl Env for Locals<'_> {
    fn local(&self, i: u16) -> Value {
        self.0.get(i as usize).cloned().unwrap_or_default()
    }
}

fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Evaluate `e`; an error is a Python-style exception message.
pub fn eval(e: &CExpr, env: &dyn Env) -> Result<Value, String> {
    Ok(match e {
        CExpr::Lit(v) => v.clone(),
        CExpr::Local(i) => env.local(*i),
        CExpr::Shared(i) => env.shared(*i),
        CExpr::ServiceVar(s, v) => env.service_var(*s, *v),
        CExpr::Index(m, k) => eval(m, env)?.index(&eval(k, env)?)?,
        CExpr::Not(x) => Value::Bool(!eval(x, env)?.truthy()),
        CExpr::Neg(x) => match eval(x, env)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or("OverflowError: negation")?),
            other => return Err(format!("TypeError: bad operand type for unary -: {}", other.type_name())),
        },
        CExpr::And(a, b) => Value::Bool(eval(a, env)?.truthy() && eval(b, env)?.truthy()),
        CExpr::Or(a, b) => Value::Bool(eval(a, env)?.truthy() || eval(b, env)?.truthy()),
        CExpr::Bin(op, a, b) => Value::binary(*op, &eval(a, env)?, &eval(b, env)?)?,
        CExpr::List(items) => Value::List(items.iter().map(|x| eval(x, env)).collect::<Result<_, _>>()?),
        CExpr::Has(m, k) => match eval(m, env)? {
            Value::List(l) => {
                let x = eval(k, env)?;
                Value::Bool(l.contains(&x))
            }
            Value::Map(map) => {
                let key: Key = eval(k, env)?.key()?;
                Value::Bool(map.contains_key(&key))
            }
            other => return Err(format!("TypeError: has() needs a map, found {}", other.type_name())),
        },
        CExpr::Len(x) => match eval(x, env)? {
            Value::Map(map) => int(map.len() as u64),
            Value::List(l) => int(l.len() as u64),
            Value::Str(s) => int(s.chars().count() as u64),
            other => return Err(format!("TypeError: object of type {} has no len()", other.type_name())),
        },
        CExpr::Nones(x) => match eval(x, env)? {
            Value::Map(map) => int(map.values().filter(|v| **v == Value::None).count() as u64),
            other => return Err(format!("TypeError: nones() needs a map, found {}", other.type_name())),
        },
        CExpr::Count(ev) => int(env.count(*ev)),
        CExpr::Failed(t) => int(env.ended(*t, Ended::Failed)),
        CExpr::Finished(t) => int(env.ended(*t, Ended::Any)),
        CExpr::Cancelled(t) => int(env.ended(*t, Ended::Cancelled)),
        CExpr::Result(t) => env.result(*t),
    })
}
