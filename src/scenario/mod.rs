//! Scenario files: TOML in, a typed [`Scenario`] out, with every error located.
//!
//! The generic part (name, model, variants, limits, faults, steps' timing, expectations)
//! is parsed here; each model parses its own step fields and sections from the spanned
//! [`Table`]s kept in the scenario, through the same error type.

pub use crate::engine::spec::{
    At, Expectation, Expected, Kind, ModelRef, Scenario, ScenarioError, Source, Step, Table, Value, error, value,
};

use crate::engine::faults::{FaultPlan, Partition};
use crate::engine::model::{Model, ModelConfig, Registry};
use std::ops::Range;
use std::path::Path;

/// The largest `max_messages` a scenario may set.
pub const MAX_MESSAGES: u64 = 10_000_000;

/// Top-level keys every scenario may have.
pub const TOP_LEVEL: &[&str] =
    &["name", "model", "about", "variants", "seeds", "max_ticks", "max_messages", "faults", "step", "expect"];

impl Scenario {
    /// Read and parse the file at `path`, resolving its model in `registry`.
    pub fn load(registry: &Registry, path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::whole_file(&shown, format!("cannot read the file: {e}")))?;
        // A file that is not a `.toml` (`/etc/passwd`) is not quoted back in the error.
        let quotable = path.extension().is_some_and(|x| x == "toml");
        Scenario::parse(registry, &shown, &text).map_err(|mut e| {
            if !quotable {
                e.snippet = None;
            }
            e
        })
    }

    /// Parse `text` as the scenario file `file`, resolving its model in `registry`.
    pub fn parse(registry: &Registry, file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let src = Source::new(file, text);
        let doc = value::parse_document(&src)?;
        let whole = doc.span.start..doc.span.start;

        let req_str = |key: &str| -> Result<(String, Range<usize>), ScenarioError> {
            match doc.get(key) {
                Some(v) => Ok((v.str(&src, key)?.to_owned(), v.span.clone())),
                None => Err(src.error(whole.clone(), format!("missing required field `{key}`"))),
            }
        };
        let (name, _) = req_str("name")?;
        // Names and `about` reach terminals: control characters (escape sequences) are made
        // visible here once, so every format shows the same name.
        let name = crate::report::term::clean(&name).into_owned();
        let (model_name, model_span) = req_str("model")?;
        let resolved = registry.find(&model_name).cloned().ok_or_else(|| {
            src.error(
                model_span.clone(),
                format!("unknown model `{model_name}`; expected one of: {}", registry.names().join(", ")),
            )
        })?;
        let model: &dyn Model = &*resolved;
        let mut allowed: Vec<&str> = TOP_LEVEL.to_vec();
        allowed.extend_from_slice(model.sections());
        doc.deny_unknown(&src, "the scenario", &allowed)?;

        let about = doc
            .get("about")
            .map(|v| v.str(&src, "about").map(|a| crate::report::term::clean_block(a).into_owned()))
            .transpose()?
            .unwrap_or_default();
        let max_ticks = doc.get("max_ticks").map(|v| v.uint(&src, "max_ticks")).transpose()?.unwrap_or(10_000);
        // A run's memory grows with its messages (~1.4 KB each with the full trace kept):
        // the cap keeps one run within ~15 GB at worst, the default within ~1.5 GB.
        let max_messages = doc
            .get("max_messages")
            .map(|v| v.uint_max(&src, "max_messages", MAX_MESSAGES))
            .transpose()?
            .unwrap_or(1_000_000);
        let seeds = match doc.get("seeds") {
            None => 0..100,
            Some(v) => parse_seeds(&src, v)?,
        };
        let faults = match doc.get("faults") {
            None => FaultPlan::calm(),
            Some(v) => parse_faults(&src, v, max_ticks)?,
        };

        let mut steps = Vec::new();
        if let Some(v) = doc.get("step") {
            for item in v.array(&src, "step")? {
                let table = item.table(&src, "step")?.clone();
                let at_v = table
                    .get("at")
                    .ok_or_else(|| src.error(table.span.clone(), "step needs `at` (a tick or a window [a, b])"))?;
                let (lo, hi) = at_v.range(&src, "at")?;
                if hi > max_ticks {
                    return Err(src.error(
                        at_v.span.clone(),
                        format!("step at tick {hi} is after max_ticks = {max_ticks}; expected a tick <= {max_ticks}"),
                    ));
                }
                let at = if lo == hi && matches!(at_v.kind, Kind::Int(_)) { At::Tick(lo) } else { At::Window(lo, hi) };
                let do_v = table.get("do").ok_or_else(|| {
                    src.error(
                        table.span.clone(),
                        format!("step needs `do`; expected one of: {}", step_names(model).join(", ")),
                    )
                })?;
                let kind = do_v.str(&src, "do")?.to_owned();
                if !model.steps().iter().any(|s| s.name == kind) {
                    return Err(src.error(
                        do_v.span.clone(),
                        format!(
                            "unknown step `{kind}` for model `{}`; expected one of: {}",
                            model.name(),
                            step_names(model).join(", ")
                        ),
                    ));
                }
                steps.push(Step { at, kind, kind_span: do_v.span.clone(), table });
            }
        }

        let mut scenario = Scenario {
            resolved: ModelRef(resolved.clone()),
            config: ModelConfig::none(),
            source: src.clone(),
            name,
            model: model_name,
            about,
            variants: Vec::new(),
            seeds,
            max_ticks,
            max_messages,
            faults,
            steps,
            expects: Vec::new(),
            doc: doc.clone(),
        };

        // The model checks its own fields first: variants may be defined by the file itself.
        scenario.config = model.configure(&scenario)?;
        let known = model.variants(&scenario);
        scenario.variants = match doc.get("variants") {
            None => known.clone(),
            Some(v) => {
                let mut out = Vec::new();
                for (name, span) in v.strings(&src, "variants")? {
                    if !known.contains(&name) {
                        return Err(src.error(
                            span,
                            format!(
                                "unknown variant `{name}` of model `{}`; expected one of: {}",
                                model.name(),
                                known.join(", ")
                            ),
                        ));
                    }
                    out.push(name);
                }
                out
            }
        };
        if let Some(v) = doc.get("expect") {
            let invariants = model.invariants(Some(&scenario));
            for item in v.array(&src, "expect")? {
                let t = item.table(&src, "expect")?;
                t.deny_unknown(&src, "`[[expect]]`", &["variant", "holds", "violates", "includes", "why"])?;
                let variants = match t.get("variant") {
                    Some(v) => v.strings(&src, "variant")?,
                    None => {
                        return Err(src.error(t.span.clone(), "`[[expect]]` needs `variant` (a name or a list)"));
                    }
                };
                for (name, span) in &variants {
                    if !scenario.variants.contains(name) {
                        return Err(src.error(
                            span.clone(),
                            format!("unknown variant `{name}`; expected one of: {}", scenario.variants.join(", ")),
                        ));
                    }
                }
                let checked = |v: &Value, key: &str| -> Result<Vec<String>, ScenarioError> {
                    let names = v.strings(&src, key)?;
                    if names.is_empty() {
                        return Err(src.error(v.span.clone(), format!("`{key}` names no invariant")));
                    }
                    for (name, span) in &names {
                        if !invariants.contains(name) {
                            return Err(src.error(
                                span.clone(),
                                format!("unknown invariant `{name}`; expected one of: {}", invariants.join(", ")),
                            ));
                        }
                    }
                    Ok(names.into_iter().map(|(n, _)| n).collect())
                };
                let expected = match (t.get("holds"), t.get("violates"), t.get("includes")) {
                    (Some(h), None, None) => {
                        if !h.bool(&src, "holds")? {
                            return Err(src.error(
                                h.span.clone(),
                                "`holds = false` says nothing; write `violates = \"invariant\"`",
                            ));
                        }
                        Expected::Holds
                    }
                    (None, Some(v), None) => Expected::Violates(checked(v, "violates")?),
                    (None, None, Some(v)) => Expected::Includes(checked(v, "includes")?),
                    _ => {
                        return Err(src.error(
                            t.span.clone(),
                            "`[[expect]]` needs exactly one of `holds = true`, `violates = [...]` (exactly these \
                             break) or `includes = [...]` (at least these break)",
                        ));
                    }
                };
                scenario.expects.push(Expectation {
                    variants: variants.into_iter().map(|(n, _)| n).collect(),
                    expected,
                    span: t.span.clone(),
                });
            }
        }
        Ok(scenario)
    }
}

fn step_names(model: &dyn Model) -> Vec<&'static str> {
    model.steps().iter().map(|s| s.name).collect()
}

/// Parse a seed range: `N` (0..N) or `"A..B"`.
pub fn parse_seed_range(text: &str) -> Option<Range<u64>> {
    let (a, b) = text.split_once("..")?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a < b).then_some(a..b)
}

fn parse_seeds(src: &Source, v: &Value) -> Result<Range<u64>, ScenarioError> {
    match &v.kind {
        Kind::Int(_) => {
            let n = v.uint(src, "seeds")?;
            if n == 0 {
                return Err(src.error(v.span.clone(), "`seeds` must be at least 1"));
            }
            Ok(0..n)
        }
        Kind::Str(s) => parse_seed_range(s).ok_or_else(|| {
            src.error(v.span.clone(), format!("`seeds` must look like \"A..B\" with A < B, found \"{s}\""))
        }),
        _ => Err(src.error(v.span.clone(), "`seeds` must be a count N (seeds 0..N) or a range \"A..B\"")),
    }
}

fn parse_faults(src: &Source, v: &Value, max_ticks: u64) -> Result<FaultPlan, ScenarioError> {
    let t = v.table(src, "faults")?;
    t.deny_unknown(src, "`[faults]`", &["delay", "drop", "duplicate", "reorder", "fifo", "heal_at", "partition"])?;
    let mut plan = FaultPlan::calm();
    plan.heal_at = max_ticks;
    if let Some(v) = t.get("delay") {
        plan.delay = v.range(src, "delay")?;
        if plan.delay.0 == 0 {
            return Err(src.error(v.span.clone(), "`delay` must start at 1 or more: a message arrives on a later tick"));
        }
    }
    if let Some(v) = t.get("drop") {
        plan.drop = v.probability(src, "drop")?;
    }
    if let Some(v) = t.get("duplicate") {
        plan.duplicate = v.probability(src, "duplicate")?;
    }
    if let Some(v) = t.get("reorder") {
        plan.reorder = v.bool(src, "reorder")?;
    }
    if let Some(v) = t.get("fifo") {
        plan.fifo = v.bool(src, "fifo")?;
    }
    if let Some(v) = t.get("heal_at") {
        plan.heal_at = v.uint(src, "heal_at")?;
        if plan.heal_at > max_ticks {
            return Err(
                src.error(v.span.clone(), format!("`heal_at` = {} is after max_ticks = {max_ticks}", plan.heal_at))
            );
        }
    }
    if let Some(v) = t.get("partition") {
        for item in v.array(src, "partition")? {
            let p = item.table(src, "partition")?;
            p.deny_unknown(src, "`[[faults.partition]]`", &["between", "from", "to"])?;
            let between = p.get("between").ok_or_else(|| {
                src.error(p.span.clone(), "a partition needs `between = [\"a\", \"b\"]` (\"*\" for any)")
            })?;
            let ends = between.strings(src, "between")?;
            if ends.len() != 2 {
                return Err(src.error(between.span.clone(), "`between` must name exactly two ends"));
            }
            let get = |key: &str| {
                p.get(key)
                    .ok_or_else(|| src.error(p.span.clone(), format!("a partition needs `{key}`")))
                    .and_then(|v| v.uint(src, key))
            };
            let (from, to) = (get("from")?, get("to")?);
            if from >= to {
                return Err(
                    src.error(p.span.clone(), format!("partition window [{from}, {to}) is empty; expected from < to"))
                );
            }
            if to > plan.heal_at {
                return Err(
                    src.error(p.span.clone(), format!("partition ends at {to}, after heal_at = {}", plan.heal_at))
                );
            }
            plan.partitions.push(Partition { a: ends[0].0.clone(), b: ends[1].0.clone(), from, to });
        }
    }
    Ok(plan)
}
