//! The model's checks: deadlock over the wait-for graph, liveness of every task, and the
//! scenario's final assertions at quiescence.

use super::eval::{Ended, Env, eval};
use super::locks::Lock;
use super::runtime::{End, Prog, Sched, Shared, Status, Task};
use super::value::Value;
use crate::engine::Engine;
use crate::engine::check::Violation;
use crate::engine::ids::Id;
use bevy_ecs::prelude::*;
use std::fmt::Write as _;

/// The liveness monitor: hot from a task's start until it ends.
pub const FINISHES: &str = "task_finishes";
/// The deadlock invariant.
pub const DEADLOCK: &str = "deadlock";

/// Why one task waits for another.
#[derive(Clone, Debug)]
enum Why {
    /// It wants `lock` (at `line`), which `holder` holds since `since`.
    Held { lock: u16, line: u32, mode: &'static str, since: u32 },
    /// It wants `lock` and `ahead` is queued before it.
    Queued { lock: u16, line: u32, mode: &'static str },
    /// It joins the other task (at `line`).
    Join { line: u32 },
}

/// The tick's checks: liveness of every task, then deadlock (one system: each system run
/// costs as much as the checks themselves).
pub fn check(
    mut sched: ResMut<Sched>,
    tasks: Query<&Task>,
    locks: Query<&Lock>,
    prog: Res<Prog>,
    mut engine: ResMut<Engine>,
    mut out: MessageWriter<Violation>,
) {
    // A task is hot from its start until it ends; the engine judges the deadline.
    for (id, hot) in sched.liveness.drain(..) {
        engine.monitor(FINISHES, id, hot);
    }
    if !sched.blocked_dirty {
        return;
    }
    sched.blocked_dirty = false;
    let n = sched.tasks.len();
    let mut edges: Vec<Vec<(u32, Why)>> = vec![Vec::new(); n];
    for (i, meta) in sched.tasks.iter().enumerate() {
        let Ok(task) = tasks.get(meta.entity) else { continue };
        match &task.status {
            Status::Blocked { lock, mode, line } => {
                let Some(l) = sched.locks.get(*lock as usize).and_then(|e| locks.get(*e).ok()) else { continue };
                for b in l.blockers(i as u32) {
                    let why = match l.holders.iter().find(|h| h.task == b) {
                        Some(h) => Why::Held { lock: *lock, line: *line, mode: mode.statement(), since: h.line },
                        None => Why::Queued { lock: *lock, line: *line, mode: mode.statement() },
                    };
                    edges[i].push((b, why));
                }
            }
            Status::Joining { on, line } => {
                for &x in on {
                    if sched.tasks[x as usize].end.is_none() {
                        edges[i].push((x, Why::Join { line: *line }));
                    }
                }
            }
            _ => {}
        }
    }
    let Some(cycle) = find_cycle(&edges) else { return };
    let p = &prog.0;
    let task_name = |t: u32| engine.names.name(sched.tasks[t as usize].id).to_owned();
    let lock_name = |l: u16| p.locks[l as usize].0.name.clone();
    let mut ids: Vec<Id> = Vec::new();
    let mut lock_ids: Vec<Id> = Vec::new();
    let mut detail = String::new();
    if let [(t, Why::Held { lock, line, mode, since })] = cycle.as_slice() {
        ids.push(sched.tasks[*t as usize].id);
        lock_ids.push(p.locks[*lock as usize].0.id);
        let _ = write!(
            detail,
            "{} waits for {} ({mode} at line {line}), which it already holds (taken at line {since}): the lock is not re-entrant, so the task waits for itself forever",
            task_name(*t),
            lock_name(*lock)
        );
    } else {
        let locks_in: Vec<u16> = cycle
            .iter()
            .filter_map(|(_, w)| match w {
                Why::Held { lock, .. } | Why::Queued { lock, .. } => Some(*lock),
                Why::Join { .. } => None,
            })
            .collect();
        let mut distinct = locks_in.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let _ = write!(detail, "cycle of {} tasks over {} lock(s):", cycle.len(), distinct.len());
        for (k, (t, why)) in cycle.iter().enumerate() {
            let next = cycle[(k + 1) % cycle.len()].0;
            ids.push(sched.tasks[*t as usize].id);
            let _ = match why {
                Why::Held { lock, line, mode, since } => write!(
                    detail,
                    "\n  {} waits for {} ({mode} at line {line}), held by {} since its line {since}",
                    task_name(*t),
                    lock_name(*lock),
                    task_name(next)
                ),
                Why::Queued { lock, line, mode } => write!(
                    detail,
                    "\n  {} waits for {} ({mode} at line {line}) behind {}, queued first",
                    task_name(*t),
                    lock_name(*lock),
                    task_name(next)
                ),
                Why::Join { line } => {
                    write!(
                        detail,
                        "\n  {} waits for {} to finish (join at line {line})",
                        task_name(*t),
                        task_name(next)
                    )
                }
            };
        }
        for l in locks_in {
            let id = p.locks[l as usize].0.id;
            if !lock_ids.contains(&id) {
                lock_ids.push(id);
            }
        }
    }
    ids.extend(lock_ids);
    out.write(Violation { invariant: DEADLOCK, detail, ids });
}

/// The first cycle reachable from the lowest-numbered task, as (task, why it waits for the
/// next) pairs, starting at the lowest-numbered task on the cycle.
fn find_cycle(edges: &[Vec<(u32, Why)>]) -> Option<Vec<(u32, Why)>> {
    let n = edges.len();
    let mut color = vec![0u8; n];
    let mut path: Vec<(u32, Why)> = Vec::new();
    fn dfs(v: usize, edges: &[Vec<(u32, Why)>], color: &mut [u8], path: &mut Vec<(u32, Why)>) -> Option<usize> {
        color[v] = 1;
        for (w, why) in &edges[v] {
            path.push((v as u32, why.clone()));
            let w = *w as usize;
            if color[w] == 1 {
                return Some(w);
            }
            if color[w] == 0
                && let Some(start) = dfs(w, edges, color, path)
            {
                return Some(start);
            }
            path.pop();
        }
        color[v] = 2;
        None
    }
    for s in 0..n {
        if color[s] != 0 {
            continue;
        }
        if let Some(start) = dfs(s, edges, &mut color, &mut path) {
            let from = path.iter().position(|(t, _)| *t as usize == start)?;
            let mut cycle: Vec<(u32, Why)> = path.split_off(from);
            let low = cycle.iter().enumerate().min_by_key(|(_, (t, _))| *t).map(|(i, _)| i).unwrap_or(0);
            cycle.rotate_left(low);
            return Some(cycle);
        }
    }
    None
}

/// What a final check or an `[[invariant]]` sees: shared and service state, events, ends.
pub(crate) struct Final<'a> {
    pub(crate) sched: &'a Sched,
    pub(crate) shared: &'a Shared,
}

/// Evaluate an `[[invariant]]` now: `None` when it holds, else the violation's detail.
pub(crate) fn broken(prog: &super::compile::Compiled, env: &Final<'_>, f: &super::compile::FinalDef) -> Option<String> {
    match eval(&f.expr, env) {
        Ok(v) if v.truthy() => None,
        Ok(_) => Some(format!("`{}` is false{}", f.text, values(prog, env, &f.expr))),
        Err(e) => Some(format!("`{}` could not be evaluated: {e}", f.text)),
    }
}

impl Env for Final<'_> {
    fn shared(&self, i: u16) -> Value {
        self.shared.vars.get(i as usize).cloned().unwrap_or_default()
    }
    fn service_var(&self, s: u16, v: u16) -> Value {
        self.shared.services.get(s as usize).and_then(|st| st.get(v as usize)).cloned().unwrap_or_default()
    }
    fn count(&self, e: u16) -> u64 {
        self.sched.events.get(e as usize).copied().unwrap_or(0)
    }
    fn ended(&self, task: Option<u16>, how: Ended) -> u64 {
        self.sched
            .tasks
            .iter()
            .filter(|m| task.is_none_or(|t| m.def == t))
            .filter(|m| {
                matches!(
                    (&m.end, how),
                    (Some(End::Failed(_)), Ended::Failed)
                        | (Some(End::Cancelled), Ended::Cancelled)
                        | (Some(_), Ended::Any)
                )
            })
            .count() as u64
    }
    fn result(&self, task: u16) -> Value {
        match self.sched.tasks.iter().find(|m| m.def == task).and_then(|m| m.end.as_ref()) {
            Some(End::Returned(v)) => v.clone(),
            _ => Value::None,
        }
    }
}

/// At quiescence: every `[[final]]` check that does not hold is a violation.
pub fn check_finals(sched: Res<Sched>, shared: Res<Shared>, prog: Res<Prog>, mut out: MessageWriter<Violation>) {
    let env = Final { sched: &sched, shared: &shared };
    for f in &prog.0.finals {
        let detail = match eval(&f.expr, &env) {
            Ok(v) if v.truthy() => continue,
            Ok(_) => format!("`{}` is false at the end of the run{}", f.text, values(&prog.0, &env, &f.expr)),
            Err(e) => format!("`{}` could not be evaluated: {e}", f.text),
        };
        out.write(Violation { invariant: f.name, detail, ids: Vec::new() });
    }
}

/// ": strikes = 2, count(refresh_call) = 3" for the names an expression reads.
fn values(prog: &super::compile::Compiled, env: &Final<'_>, e: &super::program::CExpr) -> String {
    use super::program::CExpr as C;
    fn walk(e: &C, out: &mut Vec<C>) {
        match e {
            C::Shared(_)
            | C::ServiceVar(..)
            | C::Count(_)
            | C::Failed(_)
            | C::Finished(_)
            | C::Cancelled(_)
            | C::Result(_) => {
                if !out.contains(e) {
                    out.push(e.clone());
                }
            }
            C::Index(a, b) | C::And(a, b) | C::Or(a, b) | C::Bin(_, a, b) | C::Has(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            C::Not(a) | C::Neg(a) | C::Len(a) | C::Nones(a) => walk(a, out),
            C::List(items) => items.iter().for_each(|x| walk(x, out)),
            C::Lit(_) | C::Local(_) => {}
        }
    }
    let mut refs = Vec::new();
    walk(e, &mut refs);
    let task = |t: &Option<u16>| t.map(|t| prog.tasks[t as usize].name.clone()).unwrap_or_default();
    let parts: Vec<String> = refs
        .iter()
        .map(|r| {
            let label = match r {
                C::Shared(i) => prog.shared[*i as usize].0.name.clone(),
                C::ServiceVar(s, v) => {
                    let svc = &prog.services[*s as usize];
                    format!("{}.{}", svc.named.name, svc.state[*v as usize].0)
                }
                C::Count(ev) => format!("count({})", prog.events[*ev as usize].name),
                C::Failed(t) => format!("failed({})", task(t)),
                C::Finished(t) => format!("finished({})", task(t)),
                C::Cancelled(t) => format!("cancelled({})", task(t)),
                C::Result(t) => format!("result({})", prog.tasks[*t as usize].name),
                _ => String::new(),
            };
            let v = eval(r, env).map(|v| v.to_string()).unwrap_or_else(|e| e);
            format!("{label} = {v}")
        })
        .collect();
    if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) }
}
