//! The model's sections of a scenario file, read into a [`Spec`] with located errors.
//!
//! ```toml
//! [options]                 # all optional
//! scheduling = "cooperative" # asyncio: tasks switch only at await/call/blocked lock/join
//! finish_within = 200       # liveness: ticks after heal within which every task ends
//! allow_failures = false    # whether a task ending in `fail` is acceptable
//!
//! [shared]                  # shared variables and their initial values
//! strikes = 0
//! pending = {}
//!
//! [locks]
//! tokens_lock = "mutex"     # or "rwlock"
//!
//! [service.token_endpoint]  # a remote service: the links to and from it
//! latency = [1, 4]          # each way (default: the `[faults]` delay)
//! fail = 0.1                # chance a request is lost and the caller told (before heal)
//! state = { current = "rt0" }
//! handler = """ ... """     # runs atomically when a call arrives; `arg` is the argument
//!
//! [[task]]
//! name = "bot"
//! copies = 3
//! start = [0, 5]            # a tick or a window; "spawn" = only when spawned
//! program = """ ... """     # the default program (variants may replace it)
//!
//! [variant.single_flight]
//! about = "..."
//! like = "other_variant"    # start from another variant's programs
//! bot = """ ... """
//!
//! [[final]]
//! name = "no_lost_strike"
//! check = "strikes == 3"
//! variant = ["..."]         # optional: only for these variants
//! ```

use super::ast::{Block, Expr};
use super::lexer::SyntaxError;
use super::parser::{parse_expression, parse_program};
use super::source_map::SourceMap;
use super::value::{Key, Value};
use crate::scenario::{Kind, Scenario, ScenarioError, Source, Table};
use std::collections::BTreeMap;
use std::ops::Range;

/// The model's top-level sections.
pub const SECTIONS: &[&str] =
    &["options", "const", "shared", "locks", "queues", "fn", "service", "task", "variant", "final", "invariant"];

/// A `[fn.NAME]`: a procedure tasks and handlers call like a service (`call NAME(a, b) -> r`),
/// compiled into each caller (so it waits, or may not, exactly as its caller may).
#[derive(Clone, Debug)]
pub struct FnSpec {
    /// Its name.
    pub name: String,
    /// Its parameters, locals of its body.
    pub params: Vec<String>,
    /// Its body.
    pub body: Program,
}

/// A program or check text and where it stands in the file.
#[derive(Clone, Debug)]
pub struct Text {
    /// The text.
    pub text: String,
    /// Its offsets in the file.
    pub map: SourceMap,
}

impl Text {
    /// An error at `range` of the text, located in the file.
    pub fn error(&self, src: &Source, (range, msg): SyntaxError) -> ScenarioError {
        src.error(self.map.map(range), msg)
    }

    /// The source of `range` of the text.
    pub fn slice(&self, range: Range<usize>) -> &str {
        self.text.get(range).unwrap_or("")
    }
}

/// A parsed program.
#[derive(Clone, Debug)]
pub struct Program {
    /// Its statements.
    pub block: Block,
    /// Its text.
    pub text: Text,
}

/// How tasks take turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduling {
    /// asyncio: a task runs until it awaits (sleep, call, a lock it cannot take, join).
    Cooperative,
    /// Threads: the scheduler may switch after every step that touches shared state.
    Preemptive,
}

/// `[options]`.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How tasks take turns.
    pub scheduling: Scheduling,
    /// Ticks after heal (or after a task starts, if later) within which it must end.
    pub finish_within: u64,
    /// Whether a task may end in `fail` without that being a violation.
    pub allow_failures: bool,
}

/// A lock's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    /// asyncio.Lock: one holder, not re-entrant, FIFO.
    Mutex,
    /// A reader-writer lock: many readers or one writer, FIFO.
    RwLock,
}

/// A `[service.NAME]`.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// Its name.
    pub name: String,
    /// Ticks each way, inclusive (`None`: the `[faults]` delay, as any link).
    pub latency: Option<(u64, u64)>,
    /// Chance that a call fails in transit while faults are active.
    pub fail: f64,
    /// Its own state variables.
    pub state: Vec<(String, Value)>,
    /// What it does with a call.
    pub handler: Option<Program>,
    /// Ticks its clock is ahead (negative: behind).
    pub skew: i64,
}

/// A `[[task]]`.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Its name.
    pub name: String,
    /// How many instances start on their own.
    pub copies: u32,
    /// When they start (a window the tape picks in), or `None`: only when spawned.
    pub start: Option<(u64, u64)>,
    /// The default program.
    pub program: Option<Program>,
    /// Where the table stands.
    pub span: Range<usize>,
    /// Ticks its clock is ahead (negative: behind).
    pub skew: i64,
}

/// A `[variant.NAME]`: one set of programs.
#[derive(Clone, Debug)]
pub struct VariantSpec {
    /// Its name.
    pub name: String,
    /// What it models.
    pub about: String,
    /// The program of each task, by task index.
    pub programs: Vec<Program>,
    /// Shared variables' initial values (the file's, with this variant's overrides).
    pub shared: Vec<(String, Value)>,
    /// Each service's handler, by service index (the file's, or this variant's).
    pub handlers: Vec<Option<Program>>,
    /// Options (the file's, with this variant's overrides).
    pub options: Options,
    /// Constants (the file's `[const]`, with this variant's overrides).
    pub consts: Vec<(String, Value)>,
}

/// A `[[final]]` check.
#[derive(Clone, Debug)]
pub struct FinalSpec {
    /// The invariant's name.
    pub name: String,
    /// The expression.
    pub expr: Expr,
    /// Its text.
    pub text: Text,
    /// The variants it applies to (`None`: all).
    pub variants: Option<Vec<String>>,
}

/// The model's view of a scenario.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `[options]`.
    pub options: Options,
    /// Shared variables with their initial values.
    pub shared: Vec<(String, Value)>,
    /// Constants programs read by name.
    pub consts: Vec<(String, Value)>,
    /// Locks.
    pub locks: Vec<(String, LockKind)>,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Tasks.
    pub tasks: Vec<TaskSpec>,
    /// Variants.
    pub variants: Vec<VariantSpec>,
    /// Final checks.
    pub finals: Vec<FinalSpec>,
    /// Invariants checked whenever shared state changes.
    pub invariants: Vec<FinalSpec>,
    /// Named queues and their capacities (0: unbounded).
    pub queues: Vec<(String, u32)>,
    /// Procedures.
    pub fns: Vec<FnSpec>,
    /// Scripted steps, in file order.
    pub steps: Vec<(crate::scenario::At, super::actions::StepSpec)>,
}

/// The name of the one variant of a file that declares none.
pub const DEFAULT_VARIANT: &str = "default";

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_name(src: &Source, name: &str, span: &Range<usize>, what: &str) -> Result<(), ScenarioError> {
    if is_name(name) {
        Ok(())
    } else {
        Err(src.error(
            span.clone(),
            format!("{what} `{name}` is not a name programs can use; expected letters, digits and `_`"),
        ))
    }
}

/// A TOML value as a task-language value.
pub fn value_of(src: &Source, v: &crate::scenario::Value, field: &str) -> Result<Value, ScenarioError> {
    Ok(match &v.kind {
        Kind::Int(i) => Value::Int(*i),
        Kind::Str(s) => Value::str(s),
        Kind::Bool(b) => Value::Bool(*b),
        Kind::Table(t) => {
            let mut m = BTreeMap::new();
            for (k, _, item) in in_file_order(t) {
                m.insert(Key::Str(k.as_str().into()), value_of(src, item, field)?);
            }
            Value::Map(m)
        }
        Kind::Array(items) => Value::List(items.iter().map(|x| value_of(src, x, field)).collect::<Result<_, _>>()?),
        other => {
            return Err(src.error(
                v.span.clone(),
                format!(
                    "`{field}` must be an integer, a string, a boolean, an array (a list) or a table (a map), found {}",
                    other.describe()
                ),
            ));
        }
    })
}

fn text_of(src: &Source, v: &crate::scenario::Value, field: &str) -> Result<Text, ScenarioError> {
    let s = v.str(src, field)?;
    Ok(Text { text: s.to_owned(), map: SourceMap::new(&src.text, v.span.clone(), s) })
}

fn program_of(src: &Source, v: &crate::scenario::Value, field: &str) -> Result<Program, ScenarioError> {
    let text = text_of(src, v, field)?;
    let block = parse_program(&text.text).map_err(|e| text.error(src, e))?;
    Ok(Program { block, text })
}

/// A table's entries in the order the file gives them (the TOML reader sorts keys).
pub fn in_file_order(t: &Table) -> Vec<&(String, Range<usize>, crate::scenario::Value)> {
    let mut v: Vec<_> = t.entries.iter().collect();
    v.sort_by_key(|(_, span, _)| span.start);
    v
}

fn opt_table<'a>(doc: &'a Table, src: &Source, key: &str) -> Result<Option<&'a Table>, ScenarioError> {
    doc.get(key).map(|v| v.table(src, key)).transpose()
}

impl Spec {
    /// Read the model's sections of `scenario`.
    pub fn load(scenario: &Scenario) -> Result<Spec, ScenarioError> {
        let src = &scenario.source;
        let doc = &scenario.doc;
        let base = Options { scheduling: Scheduling::Cooperative, finish_within: 500, allow_failures: false };
        let options = match opt_table(doc, src, "options")? {
            Some(t) => options_of(src, t, base, "`[options]`")?,
            None => base,
        };
        let mut consts = Vec::new();
        if let Some(t) = opt_table(doc, src, "const")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "constant")?;
                consts.push((name.clone(), value_of(src, v, name)?));
            }
        }

        let mut shared = Vec::new();
        if let Some(t) = opt_table(doc, src, "shared")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "shared variable")?;
                shared.push((name.clone(), value_of(src, v, name)?));
            }
        }

        let mut locks = Vec::new();
        if let Some(t) = opt_table(doc, src, "locks")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "lock")?;
                let kind = match v.str(src, name)? {
                    "mutex" => LockKind::Mutex,
                    "rwlock" => LockKind::RwLock,
                    other => {
                        return Err(src.error(
                            v.span.clone(),
                            format!("unknown lock kind `{other}`; expected \"mutex\" or \"rwlock\""),
                        ));
                    }
                };
                locks.push((name.clone(), kind));
            }
        }

        let mut services = Vec::new();
        if let Some(t) = opt_table(doc, src, "service")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "service")?;
                let st = v.table(src, name)?;
                st.deny_unknown(
                    src,
                    &format!("`[service.{name}]`"),
                    &["latency", "fail", "state", "handler", "clock_skew"],
                )?;
                let skew = skew_of(src, st)?;
                let latency = st.get("latency").map(|l| l.range(src, "latency")).transpose()?;
                if latency.is_some_and(|l| l.0 == 0) {
                    let span = st.get("latency").map(|l| l.span.clone()).unwrap_or(span.clone());
                    return Err(src.error(span, "`latency` must start at 1 or more: a reply comes on a later tick"));
                }
                let fail = st.get("fail").map(|f| f.probability(src, "fail")).transpose()?.unwrap_or(0.0);
                if let Some(f) = st.get("fail")
                    && fail > 0.0
                    && scenario.faults.heal_at == 0
                {
                    // Faults apply only before the heal point, and a file without `[faults]`
                    // heals at tick 0: this `fail` could never happen.
                    return Err(src.error(
                        f.span.clone(),
                        "`fail` takes effect only before `heal_at`, and this file heals at tick 0; expected a `[faults]` table (its `heal_at` defaults to max_ticks)",
                    ));
                }
                let mut state = Vec::new();
                if let Some(s) = st.get("state") {
                    for (k, kspan, kv) in in_file_order(s.table(src, "state")?) {
                        check_name(src, k, kspan, "state variable")?;
                        state.push((k.clone(), value_of(src, kv, k)?));
                    }
                }
                let handler = st.get("handler").map(|h| program_of(src, h, "handler")).transpose()?;
                services.push(ServiceSpec { name: name.clone(), latency, fail, state, handler, skew });
            }
        }

        let mut queues = Vec::new();
        if let Some(t) = opt_table(doc, src, "queues")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "queue")?;
                let cap = v.uint(src, name)?;
                if cap > MAX_QUEUE_CAPACITY {
                    return Err(src.error(
                        v.span.clone(),
                        format!("a queue's capacity must be at most {MAX_QUEUE_CAPACITY} (0: unbounded)"),
                    ));
                }
                queues.push((name.clone(), cap as u32));
            }
        }
        check_faults_apply(scenario, &services, &queues)?;

        let mut fns: Vec<FnSpec> = Vec::new();
        if let Some(t) = opt_table(doc, src, "fn")? {
            for (name, span, v) in in_file_order(t) {
                check_name(src, name, span, "procedure")?;
                if services.iter().any(|s| s.name == *name) {
                    return Err(src.error(
                        span.clone(),
                        format!("`{name}` is already a service; a procedure needs its own name"),
                    ));
                }
                let ft = v.table(src, name)?;
                ft.deny_unknown(src, &format!("`[fn.{name}]`"), &["params", "body"])?;
                let mut params = Vec::new();
                if let Some(pv) = ft.get("params") {
                    for (p, pspan) in pv.strings(src, "params")? {
                        check_name(src, &p, &pspan, "parameter")?;
                        params.push(p);
                    }
                }
                let bv = ft
                    .get("body")
                    .ok_or_else(|| src.error(ft.span.clone(), format!("`[fn.{name}]` needs a `body`")))?;
                fns.push(FnSpec { name: name.clone(), params, body: program_of(src, bv, "body")? });
            }
        }

        let mut tasks = Vec::new();
        if let Some(v) = doc.get("task") {
            for item in v.array(src, "task")? {
                let t = item.table(src, "task")?;
                t.deny_unknown(src, "`[[task]]`", &["name", "copies", "start", "program", "clock_skew"])?;
                let skew = skew_of(src, t)?;
                let name_v = t.get("name").ok_or_else(|| src.error(t.span.clone(), "`[[task]]` needs a `name`"))?;
                let name = name_v.str(src, "name")?.to_owned();
                check_name(src, &name, &name_v.span, "task")?;
                if tasks.iter().any(|x: &TaskSpec| x.name == name) {
                    return Err(src.error(name_v.span.clone(), format!("a task named `{name}` is already declared")));
                }
                let copies = t.get("copies").map(|c| c.uint(src, "copies")).transpose()?.unwrap_or(1);
                if copies == 0 || copies > 64 {
                    let span = t.get("copies").map(|c| c.span.clone()).unwrap_or(t.span.clone());
                    return Err(src.error(span, "`copies` must be between 1 and 64"));
                }
                let start = match t.get("start") {
                    None => Some((0, 0)),
                    Some(s) if matches!(&s.kind, Kind::Str(x) if x == "spawn") => None,
                    Some(s) if matches!(s.kind, Kind::Str(_)) => {
                        return Err(src.error(
                            s.span.clone(),
                            "`start` must be a tick, a window [a, b], or \"spawn\" (starts only when spawned)",
                        ));
                    }
                    Some(s) => {
                        let (lo, hi) = s.range(src, "start")?;
                        if hi > scenario.max_ticks {
                            return Err(src.error(
                                s.span.clone(),
                                format!("`start` is after max_ticks = {}", scenario.max_ticks),
                            ));
                        }
                        Some((lo, hi))
                    }
                };
                let program = t.get("program").map(|p| program_of(src, p, "program")).transpose()?;
                tasks.push(TaskSpec { name, copies: copies as u32, start, program, span: t.span.clone(), skew });
            }
        }
        if tasks.is_empty() {
            return Err(src.error(doc.span.start..doc.span.start, "a `tasks` scenario needs at least one `[[task]]`"));
        }

        let mut variants: Vec<VariantSpec> = Vec::new();
        match opt_table(doc, src, "variant")? {
            None => {
                let mut programs = Vec::new();
                for t in &tasks {
                    let Some(p) = &t.program else {
                        return Err(src.error(
                            t.span.clone(),
                            format!(
                                "task `{}` has no `program` (and the file declares no `[variant.NAME]` giving one)",
                                t.name
                            ),
                        ));
                    };
                    programs.push(p.clone());
                }
                variants.push(VariantSpec {
                    name: DEFAULT_VARIANT.into(),
                    about: "the programs of the tasks".into(),
                    programs,
                    shared: shared.clone(),
                    handlers: services.iter().map(|s| s.handler.clone()).collect(),
                    options,
                    consts: consts.clone(),
                });
            }
            Some(vt) => {
                for (vname, vspan, v) in in_file_order(vt) {
                    let t = v.table(src, vname)?;
                    let mut allowed = vec!["about", "like", "shared", "service", "options", "const"];
                    allowed.extend(tasks.iter().map(|t| t.name.as_str()));
                    t.deny_unknown(
                        src,
                        &format!(
                            "`[variant.{vname}]` (its keys are `about`, `like`, task names, `shared`, `service`, `options` and `const`)"
                        ),
                        &allowed,
                    )?;
                    let about =
                        t.get("about").map(|a| a.str(src, "about").map(str::to_owned)).transpose()?.unwrap_or_default();
                    let base: Option<&VariantSpec> = match t.get("like") {
                        None => None,
                        Some(l) => {
                            let like = l.str(src, "like")?;
                            Some(variants.iter().find(|x| x.name == like).ok_or_else(|| {
                                src.error(
                                    l.span.clone(),
                                    format!(
                                        "`like` must name a variant declared above this one; expected one of: {}",
                                        names(variants.iter().map(|x| x.name.as_str()))
                                    ),
                                )
                            })?)
                        }
                    };
                    let mut programs = Vec::new();
                    for (i, task) in tasks.iter().enumerate() {
                        let p = match t.get(&task.name) {
                            Some(p) => program_of(src, p, &task.name)?,
                            None => match (base, &task.program) {
                                (Some(b), _) => b.programs[i].clone(),
                                (None, Some(p)) => p.clone(),
                                (None, None) => {
                                    return Err(src.error(
                                        vspan.clone(),
                                        format!(
                                            "variant `{vname}` has no program for task `{}`; give one here (`{} = \"\"\"...\"\"\"`), through `like`, or as `program` in its `[[task]]`",
                                            task.name, task.name
                                        ),
                                    ));
                                }
                            },
                        };
                        programs.push(p);
                    }
                    let (base_shared, base_consts, base_options) = match base {
                        Some(b) => (b.shared.clone(), b.consts.clone(), b.options),
                        None => (shared.clone(), consts.clone(), options),
                    };
                    let vshared = match opt_table(t, src, "shared")? {
                        Some(st) => patch_values(src, st, &base_shared, "[shared]")?,
                        None => base_shared,
                    };
                    let vconsts = match opt_table(t, src, "const")? {
                        Some(st) => patch_values(src, st, &base_consts, "[const]")?,
                        None => base_consts,
                    };
                    let voptions = match opt_table(t, src, "options")? {
                        Some(ot) => options_of(src, ot, base_options, &format!("`[variant.{vname}.options]`"))?,
                        None => base_options,
                    };
                    let mut handlers: Vec<Option<Program>> = match base {
                        Some(b) => b.handlers.clone(),
                        None => services.iter().map(|s| s.handler.clone()).collect(),
                    };
                    if let Some(svt) = opt_table(t, src, "service")? {
                        for (sname, sspan, sv) in in_file_order(svt) {
                            let Some(i) = services.iter().position(|s| s.name == *sname) else {
                                return Err(src.error(
                                    sspan.clone(),
                                    format!(
                                        "unknown service `{sname}`; declared services: {}",
                                        names(services.iter().map(|s| s.name.as_str()))
                                    ),
                                ));
                            };
                            let st = sv.table(src, sname)?;
                            st.deny_unknown(src, &format!("`[variant.{vname}.service.{sname}]`"), &["handler"])?;
                            if let Some(h) = st.get("handler") {
                                handlers[i] = Some(program_of(src, h, "handler")?);
                            }
                        }
                    }
                    variants.push(VariantSpec {
                        name: vname.clone(),
                        about,
                        programs,
                        shared: vshared,
                        handlers,
                        options: voptions,
                        consts: vconsts,
                    });
                }
            }
        }

        let finals = checks_of(src, doc, "final", &variants)?;
        let invariants = checks_of(src, doc, "invariant", &variants)?;

        let mut spec = Spec {
            options,
            consts,
            shared,
            locks,
            services,
            tasks,
            variants,
            finals,
            invariants,
            queues,
            fns,
            steps: Vec::new(),
        };
        for step in &scenario.steps {
            let parsed = super::actions::parse_step(src, step, &spec)?;
            spec.steps.push((step.at, parsed));
        }
        Ok(spec)
    }

    /// The variant named `name`.
    pub fn variant(&self, name: &str) -> Option<&VariantSpec> {
        self.variants.iter().find(|v| v.name == name)
    }
}

fn options_of(src: &Source, t: &Table, mut options: Options, what: &str) -> Result<Options, ScenarioError> {
    t.deny_unknown(src, what, &["scheduling", "finish_within", "allow_failures"])?;
    if let Some(v) = t.get("scheduling") {
        options.scheduling = match v.str(src, "scheduling")? {
            "cooperative" => Scheduling::Cooperative,
            "preemptive" => Scheduling::Preemptive,
            other => {
                return Err(src.error(
                    v.span.clone(),
                    format!(
                        "unknown scheduling `{other}`; expected \"cooperative\" (asyncio) or \"preemptive\" (threads)"
                    ),
                ));
            }
        };
    }
    if let Some(v) = t.get("finish_within") {
        options.finish_within = v.uint(src, "finish_within")?;
    }
    if let Some(v) = t.get("allow_failures") {
        options.allow_failures = v.bool(src, "allow_failures")?;
    }
    Ok(options)
}

/// Override entries of `base` (a name -> value list) from the table `t`; every name must
/// already be declared there.
fn patch_values(
    src: &Source,
    t: &Table,
    base: &[(String, Value)],
    what: &str,
) -> Result<Vec<(String, Value)>, ScenarioError> {
    let mut out = base.to_vec();
    for (name, span, v) in in_file_order(t) {
        let Some(slot) = out.iter_mut().find(|(n, _)| n == name) else {
            return Err(src.error(
                span.clone(),
                format!(
                    "`{name}` is not declared in {what}; a variant can only change what the file declares: {}",
                    names(base.iter().map(|(n, _)| n.as_str()))
                ),
            ));
        };
        slot.1 = value_of(src, v, name)?;
    }
    Ok(out)
}

/// The most items a bounded queue may be declared to hold.
pub const MAX_QUEUE_CAPACITY: u64 = 10_000;

fn skew_of(src: &Source, t: &Table) -> Result<i64, ScenarioError> {
    match t.get("clock_skew").map(|v| (&v.kind, v.span.clone())) {
        None => Ok(0),
        Some((Kind::Int(i), _)) if i.unsigned_abs() <= 1_000_000_000 => Ok(*i),
        Some((_, span)) => Err(src.error(span, "`clock_skew` must be an integer number of ticks within ±1000000000")),
    }
}

/// `[[final]]` or `[[invariant]]` checks.
fn checks_of(
    src: &Source,
    doc: &Table,
    section: &str,
    variants: &[VariantSpec],
) -> Result<Vec<FinalSpec>, ScenarioError> {
    let mut finals = Vec::new();
    if let Some(v) = doc.get(section) {
        for item in v.array(src, section)? {
            let t = item.table(src, section)?;
            t.deny_unknown(src, &format!("`[[{section}]]`"), &["name", "check", "variant", "why"])?;
            let name = match t.get("name") {
                Some(n) => {
                    let s = n.str(src, "name")?.to_owned();
                    check_name(src, &s, &n.span, "check")?;
                    s
                }
                None => section.to_owned(),
            };
            let cv = t.get("check").ok_or_else(|| {
                src.error(
                    t.span.clone(),
                    format!("`[[{section}]]` needs `check`, an expression such as \"strikes == 3\""),
                )
            })?;
            let text = text_of(src, cv, "check")?;
            let expr = parse_expression(&text.text).map_err(|e| text.error(src, e))?;
            let variants_of = match t.get("variant") {
                None => None,
                Some(vv) => {
                    let mut out = Vec::new();
                    for (n, span) in vv.strings(src, "variant")? {
                        if !variants.iter().any(|x| x.name == n) {
                            return Err(src.error(
                                span,
                                format!(
                                    "unknown variant `{n}`; expected one of: {}",
                                    names(variants.iter().map(|x| x.name.as_str()))
                                ),
                            ));
                        }
                        out.push(n);
                    }
                    Some(out)
                }
            };
            finals.push(FinalSpec { name, expr, text, variants: variants_of });
        }
    }

    Ok(finals)
}

/// Refuse `[faults]` settings that nothing in the scenario can feel: only calls to services
/// cross the wire, so drop, duplicate, a delay range and partitions need a service.
fn check_faults_apply(
    scenario: &Scenario,
    services: &[ServiceSpec],
    queues: &[(String, u32)],
) -> Result<(), ScenarioError> {
    let src = &scenario.source;
    let Some(ft) = scenario.doc.get("faults") else { return Ok(()) };
    let Kind::Table(t) = &ft.kind else { return Ok(()) };
    if services.is_empty() && queues.is_empty() {
        for key in ["drop", "duplicate", "delay", "partition"] {
            if let Some(v) = t.get(key) {
                return Err(src.error(
                    v.span.clone(),
                    format!("`{key}` cannot take effect: nothing in this scenario crosses the wire; expected a `[service.NAME]` that tasks call or a `[queues]` entry (calls, replies and queued values are the envelopes faults act on)"),
                ));
            }
        }
    }
    if let Some(Kind::Array(items)) = t.get("partition").map(|v| &v.kind) {
        for item in items {
            let Kind::Table(pt) = &item.kind else { continue };
            let Some(between) = pt.get("between") else { continue };
            let Kind::Array(ends) = &between.kind else { continue };
            for end in ends {
                let Kind::Str(name) = &end.kind else { continue };
                // Task instances are parties by their instance names (`client#1`).
                let base = name.split_once('#').map_or("", |(b, n)| if n.parse::<u32>().is_ok() { b } else { "" });
                let known = name == "*"
                    || services.iter().any(|s| s.name == *name)
                    || queues.iter().any(|q| q.0 == *name)
                    || scenario.doc.get("task").is_some_and(|tv| match &tv.kind {
                        Kind::Array(ts) => ts.iter().any(|x| match &x.kind {
                            Kind::Table(tt) => {
                                matches!(tt.get("name").map(|n| &n.kind), Some(Kind::Str(n)) if n == base)
                            }
                            _ => false,
                        }),
                        _ => false,
                    });
                if !known {
                    return Err(src.error(
                        end.span.clone(),
                        format!("partition end `{name}` is no party of this scenario; expected a service, a queue, a task instance (`client#1`) or \"*\""),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Names joined for "expected one of" lists.
pub fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() { "(none declared)".to_owned() } else { v.join(", ") }
}
