//! Runtime values of the task language: none, booleans, integers, strings, maps, task handles.
//!
//! Operations follow Python where that matters for the modelled code (truthiness, a missing
//! map key reads as none as with `dict.get`, indexing none is a `TypeError`), and are
//! forgiving where it only makes programs shorter (`"rt" + 1` concatenates).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A map key: the scalar values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// A boolean key.
    Bool(bool),
    /// An integer key.
    Int(i64),
    /// A string key.
    Str(Arc<str>),
}

/// A value held by a shared variable, a local, or returned by a service.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// Nothing (Python's `None`).
    #[default]
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(Arc<str>),
    /// A map from scalar keys to values, in key order.
    Map(BTreeMap<Key, Value>),
    /// A list (`[a, b]`), indexed from 0.
    List(Vec<Value>),
    /// A handle on a task instance (from `spawn T -> h`): its number and its name.
    Task(u32, Arc<str>),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`: integer sum, string concatenation, map merge (right wins).
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (integer division, rounding toward negative infinity as in Python).
    Div,
    /// `%`.
    Rem,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// The value's type as error messages name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::Map(_) => "map",
            Value::List(_) => "list",
            Value::Task(..) => "task",
        }
    }

    /// Python truthiness: none, false, 0, "" and {} are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Str(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Task(..) => true,
        }
    }

    /// The value as a map key.
    pub fn key(&self) -> Result<Key, String> {
        match self {
            Value::Bool(b) => Ok(Key::Bool(*b)),
            Value::Int(i) => Ok(Key::Int(*i)),
            Value::Str(s) => Ok(Key::Str(s.clone())),
            other => Err(format!("TypeError: a {} cannot be a map key", other.type_name())),
        }
    }

    /// `self[key]`: a missing key reads as none (like `dict.get`).
    pub fn index(&self, key: &Value) -> Result<Value, String> {
        match self {
            Value::Map(m) => Ok(m.get(&key.key()?).cloned().unwrap_or(Value::None)),
            Value::List(l) => match key {
                Value::Int(i) => {
                    // Python's negative indices count from the end.
                    let at = if *i < 0 { l.len() as i64 + i } else { *i };
                    usize::try_from(at)
                        .ok()
                        .and_then(|at| l.get(at))
                        .cloned()
                        .ok_or_else(|| format!("IndexError: list index {i} out of range (length {})", l.len()))
                }
                other => Err(format!("TypeError: list indices must be integers, not {}", other.type_name())),
            },
            other => Err(format!("TypeError: {} is not subscriptable", other.type_name())),
        }
    }

    /// Apply a binary operator.
    pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, String> {
        use Value::*;
        let type_error = || {
            format!("TypeError: unsupported operand types for {}: {} and {}", op.symbol(), a.type_name(), b.type_name())
        };
        let overflow = || format!("OverflowError: {a} {} {b}", op.symbol());
        Ok(match op {
            BinOp::Eq => Bool(a == b),
            BinOp::Ne => Bool(a != b),
            BinOp::Add => match (a, b) {
                (Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(overflow)?),
                (Str(_), _) | (_, Str(_)) => Str(Arc::from(format!("{}{}", a.plain(), b.plain()))),
                (List(x), List(y)) => List(x.iter().chain(y).cloned().collect()),
                (Map(x), Map(y)) => {
                    let mut m = x.clone();
                    m.extend(y.iter().map(|(k, v)| (k.clone(), v.clone())));
                    Map(m)
                }
                _ => return Err(type_error()),
            },
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let (Int(x), Int(y)) = (a, b) else { return Err(type_error()) };
                let (x, y) = (*x, *y);
                if matches!(op, BinOp::Div | BinOp::Rem) && y == 0 {
                    return Err("ZeroDivisionError: division by zero".into());
                }
                let r = match op {
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    BinOp::Div => floor_div(x, y),
                    _ => floor_div(x, y).and_then(|q| q.checked_mul(y)).and_then(|p| x.checked_sub(p)),
                };
                Int(r.ok_or_else(overflow)?)
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (a, b) {
                    (Int(x), Int(y)) => x.cmp(y),
                    (Str(x), Str(y)) => x.cmp(y),
                    _ => return Err(type_error()),
                };
                Bool(match op {
                    BinOp::Lt => ord.is_lt(),
                    BinOp::Le => ord.is_le(),
                    BinOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                })
            }
        })
    }

    /// The value as text without quotes around strings (what concatenation uses).
    pub fn plain(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        }
    }
}

impl Value {
    /// The value's size for the value cap: string characters plus list and map entries,
    /// nested values included, counted only up to `limit` (so checking stays cheap).
    pub fn size_up_to(&self, limit: usize) -> usize {
        fn walk(v: &Value, limit: usize, acc: &mut usize) {
            if *acc > limit {
                return;
            }
            match v {
                Value::Str(s) => *acc += s.len(),
                Value::List(l) => {
                    *acc += l.len();
                    for x in l {
                        walk(x, limit, acc);
                    }
                }
                Value::Map(m) => {
                    *acc += m.len();
                    for x in m.values() {
                        walk(x, limit, acc);
                    }
                }
                _ => *acc += 1,
            }
        }
        let mut acc = 0;
        walk(self, limit, &mut acc);
        acc
    }
}

/// Python's floor division (`//`), which rounds toward negative infinity.
fn floor_div(x: i64, y: i64) -> Option<i64> {
    let q = x.checked_div(y)?;
    Some(if x % y != 0 && ((x < 0) != (y < 0)) { q - 1 } else { q })
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Bool(b) => write!(f, "{b}"),
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Task(_, name) => write!(f, "<task {name}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_concatenation() {
        let add = |a, b| Value::binary(BinOp::Add, &a, &b);
        assert_eq!(add(Value::Int(2), Value::Int(3)), Ok(Value::Int(5)));
        assert_eq!(add(Value::str("rt"), Value::Int(3)), Ok(Value::str("rt3")));
        assert!(add(Value::None, Value::Int(1)).is_err());
        assert_eq!(Value::binary(BinOp::Div, &Value::Int(-7), &Value::Int(2)), Ok(Value::Int(-4)));
        assert_eq!(Value::binary(BinOp::Rem, &Value::Int(-7), &Value::Int(2)), Ok(Value::Int(1)));
        assert!(Value::binary(BinOp::Div, &Value::Int(1), &Value::Int(0)).is_err());
    }

    #[test]
    fn maps_read_missing_keys_as_none() {
        let mut m = BTreeMap::new();
        m.insert(Key::Str("a".into()), Value::Int(1));
        let map = Value::Map(m);
        assert_eq!(map.index(&Value::str("a")), Ok(Value::Int(1)));
        assert_eq!(map.index(&Value::str("b")), Ok(Value::None));
        assert!(Value::None.index(&Value::str("a")).is_err());
        assert_eq!(map.to_string(), "{\"a\": 1}");
    }
}
