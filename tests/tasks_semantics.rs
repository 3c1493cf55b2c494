//! What the task language does when it runs: scheduling, failures and their handling,
//! cancellation, services, scripted steps, and the checks' messages.

use racelab::engine::Verdict;
use racelab::explore::exhaustive::{Bounds, explore};
use racelab::prelude::*;

fn scenario(text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), "inline.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn run(text: &str, variant: &str, seed: u64) -> Verdict {
    let s = scenario(text);
    let mut sim = Sim::new(&s, variant).unwrap_or_else(|e| panic!("{e}"));
    sim.seed(seed).verdict
}

fn violation(v: &Verdict) -> (&str, &str) {
    match v {
        Verdict::Violation { invariant, detail, .. } => (invariant, detail),
        other => panic!("expected a violation, got {}", other.summary()),
    }
}

const COUNTER: &str = r#"
name = "counter"
model = "tasks"
SCHEDULING
[shared]
n = 0
[[task]]
name = "inc"
copies = 2
program = """
read n -> x
write n = x + 1
"""
[[final]]
name = "both_counted"
check = "n == 2"
"#;

#[test]
fn cooperative_tasks_switch_only_where_they_wait() {
    // No await between the read and the write: under asyncio nothing can come between.
    let s = scenario(&COUNTER.replace("SCHEDULING", ""));
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let r = explore(&mut sim, Bounds::default());
    assert_eq!(r.to_string(), "all 2 tapes pass (search complete; deepest run made 1 choices)");
}

#[test]
fn preemptive_tasks_switch_after_every_shared_step() {
    // With threads, the other task may run between the read and the write. A preempted task
    // goes to the back of the ready queue, so the calm tape is round robin: read, read,
    // write, write, and already loses an increment.
    let s = scenario(&COUNTER.replace("SCHEDULING", "[options]\nscheduling = \"preemptive\""));
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let r = explore(&mut sim, Bounds::default());
    let fail = r.failure.as_ref().unwrap_or_else(|| panic!("a lost increment: {r}"));
    assert_eq!(fail.index, 1, "{r}");
    assert_eq!(violation(&fail.outcome.verdict), ("both_counted", "`n == 2` is false at the end of the run: n = 1"));
}

#[test]
fn failures_are_caught_retried_or_reported() {
    let text = r#"
name = "failures"
model = "tasks"
[shared]
log = {}
[service.flaky]
state = { calls = 0 }
handler = """
read calls -> c
write calls = c + 1
if c < 2 {
  fail "busy"
}
return "ok after " + (c + 1)
"""
[[task]]
name = "t"
[variant.retried]
t = """
retry 3 {
  call flaky -> r
}
write log["r"] = r
"""
[variant.exhausted]
t = """
retry 2 {
  call flaky -> r
}
"""
[variant.otherwise]
t = """
retry 2 {
  call flaky -> r
} else {
  set r = "gave up"
}
write log["r"] = r
"""
[variant.caught]
t = """
try {
  fail "boom"
} catch e {
  write log["e"] = e
}
"""
[[final]]
name = "logged"
check = "log[\"r\"] == \"ok after 3\" or log[\"r\"] == \"gave up\" or log[\"e\"] == \"boom\""
"#;
    assert_eq!(run(text, "retried", 0), Verdict::Pass);
    assert_eq!(run(text, "otherwise", 0), Verdict::Pass);
    assert_eq!(run(text, "caught", 0), Verdict::Pass);
    assert_eq!(
        violation(&run(text, "exhausted", 0)),
        ("task_failed", "t#1 ended in fail: RetryError: gave up after 2 attempts: busy")
    );
}

#[test]
fn runtime_errors_raise_like_python() {
    let base = r#"
name = "errors"
model = "tasks"
[locks]
m = "mutex"
[shared]
x = 1
[[task]]
name = "t"
program = """
PROGRAM
"""
"#;
    let cases = [
        // Past the static check (a lock taken before a loop may be held in it), caught running.
        (
            "lock m\nset i = 0\nwhile i < 2 {\n  unlock m\n  set i = i + 1\n}",
            "t#1 ended in fail: RuntimeError: Lock is not acquired",
        ),
        ("read x -> v\nset y = v[1]", "t#1 ended in fail: TypeError: int is not subscriptable"),
        ("read x -> v\nset y = v / 0", "t#1 ended in fail: ZeroDivisionError: division by zero"),
        (
            "read x -> v\nset y = v + none",
            "t#1 ended in fail: TypeError: unsupported operand types for +: int and none",
        ),
        ("join t", "t#1 ended in fail: RuntimeError: a task cannot join itself"),
    ];
    for (program, expected) in cases {
        let v = run(&base.replace("PROGRAM", program), "default", 0);
        assert_eq!(violation(&v), ("task_failed", expected), "{program}");
    }
}

#[test]
fn asserts_and_blocked_loops_are_violations() {
    let base = r#"
name = "checks"
model = "tasks"
[shared]
x = 1
[[task]]
name = "t"
program = """
PROGRAM
"""
"#;
    let v = run(&base.replace("PROGRAM", "read x -> v\nassert v == 2 \"x must be 2\""), "default", 0);
    assert_eq!(violation(&v), ("assert", "t#1 line 10: x must be 2 (`v == 2` is false)"));
    let v = run(&base.replace("PROGRAM", "loop {\n  read x -> v\n}"), "default", 0);
    let (inv, detail) = violation(&v);
    assert_eq!(inv, "event_loop_blocked");
    assert!(detail.starts_with("t#1 ran 100000 steps in one tick without waiting"), "{detail}");
}

const READERS: &str = r#"
name = "rw"
model = "tasks"
[locks]
rw = "rwlock"
[shared]
inside = 0
most = 0
[[task]]
name = "reader"
copies = 3
program = """
with read rw {
  read inside -> n
  write inside = n + 1
  read most -> m
  if n + 1 > m {
    write most = n + 1
  }
  await 2
  read inside -> n
  write inside = n - 1
}
"""
WRITER
[[final]]
check = "MOST"
"#;

#[test]
fn readers_share_a_lock_and_a_writer_excludes_them() {
    // Readers alone: all three are inside together on every tape.
    let s = scenario(&READERS.replace("WRITER", "").replace("MOST", "most == 3"));
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let r = explore(&mut sim, Bounds::default());
    assert!(r.complete(), "{r}");
    // With a writer: it never overlaps a reader, on any tape. Readers that arrive after it
    // queue behind it (the lock is fair), so fewer of them may overlap.
    let writer = r#"
[[task]]
name = "writer"
program = """
with write rw {
  read inside -> n
  assert n == 0 "a writer never overlaps a reader"
}
"""
"#;
    let s = scenario(&READERS.replace("WRITER", writer).replace("MOST", "most >= 1"));
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let r = explore(&mut sim, Bounds::default());
    assert!(r.complete(), "{r}");
}

#[test]
fn scripted_steps_spawn_cancel_and_write() {
    let text = r#"
name = "steps"
model = "tasks"
[shared]
stop = false
beats = 0
[[task]]
name = "heart"
start = "spawn"
program = """
loop {
  await 2
  read stop -> s
  if s {
    return "stopped"
  }
  read beats -> b
  write beats = b + 1
}
"""
[[task]]
name = "idle"
start = "spawn"
program = """
await 100
"""
[[step]]
at = 0
do = "spawn"
task = "heart"
[[step]]
at = 0
do = "spawn"
task = "idle"
[[step]]
at = 9
do = "write"
var = "stop"
value = true
[[step]]
at = 20
do = "cancel"
task = "idle"
[[final]]
check = "result(heart) == \"stopped\" and beats == 3 and cancelled(idle) == 1 and finished() == 2 and failed() == 0"
"#;
    // `heart` is spawned at 0 and starts at 1; it beats at 3, 5 and 7. On tick 9 the scripted
    // write acts before tasks run, so it sees `stop` and returns. `idle` is cancelled at 20.
    let v = run(text, "default", 0);
    assert_eq!(v, Verdict::Pass, "{}", v.summary());
}
