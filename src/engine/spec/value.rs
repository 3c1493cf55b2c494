//! Spanned TOML values: every value and key remembers where it stands in the file, so
//! models can report precise errors for their own fields without knowing TOML.

use super::error::{ScenarioError, Source};
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// A TOML value and its byte span in the file.
#[derive(Clone, Debug)]
pub struct Value {
    /// Where the value stands.
    pub span: Range<usize>,
    /// The value.
    pub kind: Kind,
}

/// The kinds of TOML value.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date or time (kept as text; no scenario field takes one).
    Datetime(String),
    /// An array.
    Array(Vec<Value>),
    /// A table, keys in file order.
    Table(Table),
}

/// A table: keys with their spans, in the order the file gives them.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Where the table stands.
    pub span: Range<usize>,
    /// `(key, key span, value)` in file order.
    pub entries: Vec<(String, Range<usize>, Value)>,
}

impl Kind {
    /// The kind's name as an error message says it ("a string", "an integer", ...).
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Str(_) => "a string",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Bool(_) => "a boolean",
            Kind::Datetime(_) => "a datetime",
            Kind::Array(_) => "an array",
            Kind::Table(_) => "a table",
        }
    }
}

impl Table {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v)
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _, _)| k.as_str())
    }

    /// Fail on the first key not in `allowed`, listing what is allowed.
    pub fn deny_unknown(&self, src: &Source, what: &str, allowed: &[&str]) -> Result<(), ScenarioError> {
        for (key, span, _) in &self.entries {
            if !allowed.contains(&key.as_str()) {
                return Err(src.error(
                    span.clone(),
                    format!("unknown field `{key}` in {what}; expected one of: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

impl Value {
    fn expected(&self, src: &Source, what: &str, field: &str) -> ScenarioError {
        src.error(self.span.clone(), format!("`{field}` must be {what}, found {}", self.kind.describe()))
    }

    /// The string, or an error naming `field`.
    pub fn str(&self, src: &Source, field: &str) -> Result<&str, ScenarioError> {
        match &self.kind {
            Kind::Str(s) => Ok(s),
            _ => Err(self.expected(src, "a string", field)),
        }
    }

    /// A non-negative integer.
    pub fn uint(&self, src: &Source, field: &str) -> Result<u64, ScenarioError> {
        match &self.kind {
            Kind::Int(i) if *i >= 0 => Ok(*i as u64),
            Kind::Int(_) => Err(src.error(self.span.clone(), format!("`{field}` must not be negative"))),
            _ => Err(self.expected(src, "a non-negative integer", field)),
        }
    }

    /// [`Value::uint`] of at most `max`: counts and sizes that decide a run's memory and time
    /// are bounded by a documented maximum, with a located error past it.
    pub fn uint_max(&self, src: &Source, field: &str, max: u64) -> Result<u64, ScenarioError> {
        let n = self.uint(src, field)?;
        if n > max {
            return Err(src.error(self.span.clone(), format!("`{field}` = {n} is too large; expected at most {max}")));
        }
        Ok(n)
    }

    /// An integer.
    pub fn int(&self, src: &Source, field: &str) -> Result<i64, ScenarioError> {
        match &self.kind {
            Kind::Int(i) => Ok(*i),
            _ => Err(self.expected(src, "an integer", field)),
        }
    }

    /// A boolean.
    pub fn bool(&self, src: &Source, field: &str) -> Result<bool, ScenarioError> {
        match &self.kind {
            Kind::Bool(b) => Ok(*b),
            _ => Err(self.expected(src, "true or false", field)),
        }
    }

    /// A probability in `0.0..=1.0` (an integer 0 or 1 is accepted too).
    pub fn probability(&self, src: &Source, field: &str) -> Result<f64, ScenarioError> {
        let p = match &self.kind {
            Kind::Float(f) => *f,
            Kind::Int(i) => *i as f64,
            _ => return Err(self.expected(src, "a probability between 0.0 and 1.0", field)),
        };
        if (0.0..=1.0).contains(&p) {
            Ok(p)
        } else {
            Err(src.error(self.span.clone(), format!("`{field}` must be between 0.0 and 1.0, found {p}")))
        }
    }

    /// The array's items.
    pub fn array(&self, src: &Source, field: &str) -> Result<&[Value], ScenarioError> {
        match &self.kind {
            Kind::Array(a) => Ok(a),
            _ => Err(self.expected(src, "an array", field)),
        }
    }

    /// The table.
    pub fn table(&self, src: &Source, field: &str) -> Result<&Table, ScenarioError> {
        match &self.kind {
            Kind::Table(t) => Ok(t),
            _ => Err(self.expected(src, "a table", field)),
        }
    }

    /// An inclusive range `[lo, hi]` of non-negative integers, or one integer `n` meaning `[n, n]`.
    pub fn range(&self, src: &Source, field: &str) -> Result<(u64, u64), ScenarioError> {
        match &self.kind {
            Kind::Int(_) => {
                let n = self.uint(src, field)?;
                Ok((n, n))
            }
            Kind::Array(items) if items.len() == 2 => {
                let lo = items[0].uint(src, field)?;
                let hi = items[1].uint(src, field)?;
                if lo > hi {
                    return Err(src.error(
                        self.span.clone(),
                        format!("`{field}` is the window [{lo}, {hi}], whose start is after its end; expected [a, b] with a <= b"),
                    ));
                }
                Ok((lo, hi))
            }
            _ => Err(self.expected(src, "an integer or a window [a, b]", field)),
        }
    }

    /// [`Value::range`] whose end is at most `max` (see [`Value::uint_max`]).
    pub fn range_max(&self, src: &Source, field: &str, max: u64) -> Result<(u64, u64), ScenarioError> {
        let (lo, hi) = self.range(src, field)?;
        if hi > max {
            return Err(src.error(
                self.span.clone(),
                format!("`{field}` = [{lo}, {hi}] is too large; expected values of at most {max}"),
            ));
        }
        Ok((lo, hi))
    }

    /// One string or an array of strings.
    pub fn strings(&self, src: &Source, field: &str) -> Result<Vec<(String, Range<usize>)>, ScenarioError> {
        match &self.kind {
            Kind::Str(s) => Ok(vec![(s.clone(), self.span.clone())]),
            Kind::Array(items) => {
                items.iter().map(|v| v.str(src, field).map(|s| (s.to_owned(), v.span.clone()))).collect()
            }
            _ => Err(self.expected(src, "a string or an array of strings", field)),
        }
    }
}

/// Parse `src` into a spanned table; TOML syntax errors keep the parser's location.
pub fn parse_document(src: &Source) -> Result<Table, ScenarioError> {
    let doc = DeTable::parse(&src.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(span, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let span = doc.span();
    convert_table(doc.into_inner(), span, src)
}

fn convert_table(t: DeTable<'_>, span: Range<usize>, src: &Source) -> Result<Table, ScenarioError> {
    let mut entries = Vec::with_capacity(t.len());
    for (k, v) in t {
        let key_span = k.span();
        let key = k.into_inner().into_owned();
        entries.push((key, key_span, convert(v.span(), v.into_inner(), src)?));
    }
    Ok(Table { span, entries })
}

fn convert(span: Range<usize>, v: DeValue<'_>, src: &Source) -> Result<Value, ScenarioError> {
    let kind = match v {
        DeValue::String(s) => Kind::Str(s.into_owned()),
        DeValue::Integer(i) => Kind::Int(
            i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| src.error(span.clone(), "integer out of range"))?,
        ),
        DeValue::Float(f) => {
            Kind::Float(f.as_str().parse::<f64>().map_err(|_| src.error(span.clone(), "invalid float"))?)
        }
        DeValue::Boolean(b) => Kind::Bool(b),
        DeValue::Datetime(d) => Kind::Datetime(d.to_string()),
        DeValue::Array(a) => Kind::Array(
            a.into_iter().map(|item| convert(item.span(), item.into_inner(), src)).collect::<Result<_, _>>()?,
        ),
        DeValue::Table(t) => Kind::Table(convert_table(t, span.clone(), src)?),
    };
    Ok(Value { span, kind })
}
