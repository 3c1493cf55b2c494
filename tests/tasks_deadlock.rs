//! The deadlock report: its text for the two deadlock scenarios (insta snapshots), and the
//! other shapes a wait-for cycle can take (a reader-writer upgrade, a join cycle, a reader
//! queued behind a writer).

use racelab::engine::Verdict;
use racelab::prelude::*;
use racelab::report::timeline;

/// The report of the first seed of `variant` that deadlocks: the verdict, then the timeline.
fn deadlock_report(file: &str, variant: &str) -> String {
    let path = format!("{}/scenarios/{file}.toml", env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    let seed = scenario
        .seeds
        .clone()
        .find(|s| sim.seed(*s).verdict.failed_check() == Some("deadlock"))
        .unwrap_or_else(|| panic!("{file}/{variant} deadlocks on some seed"));
    sim.trace_level(TraceLevel::Full);
    let out = sim.seed(seed);
    let Verdict::Violation { detail, ids, tick, .. } = &out.verdict else { panic!("a violation: {:?}", out.verdict) };
    format!(
        "deadlock at tick {tick}:\n{detail}\ninvolved: {}\n\n{}",
        ids.join(", "),
        timeline::render(sim.trace(), sim.names(), &out)
    )
}

#[test]
fn deadlock_reports() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("tasks_deadlock__validator_double_lock", deadlock_report("validator_double_lock", "double_lock"));
        insta::assert_snapshot!(
            "tasks_deadlock__config_lock_order_deadlock",
            deadlock_report("config_lock_order_deadlock", "opposite_orders")
        );
    });
}

fn verdict(text: &str) -> Verdict {
    let scenario = Scenario::parse(&Registry::builtin(), "inline.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&scenario, "default").unwrap_or_else(|e| panic!("{e}"));
    sim.seed(0).verdict
}

fn detail(v: &Verdict) -> &str {
    match v {
        Verdict::Violation { invariant, detail, .. } if invariant == "deadlock" => detail,
        other => panic!("expected a deadlock, got {}", other.summary()),
    }
}

#[test]
fn upgrading_a_read_lock_waits_for_itself() {
    let v = verdict(
        r#"
name = "upgrade"
model = "tasks"
[locks]
rw = "rwlock"
[[task]]
name = "t"
program = """
read_lock rw
write_lock rw
"""
"#,
    );
    assert_eq!(
        detail(&v),
        "t#1 waits for rw (write_lock at line 10), which it already holds (taken at line 9): the lock is not re-entrant, so the task waits for itself forever"
    );
}

#[test]
fn tasks_joining_each_other() {
    let v = verdict(
        r#"
name = "joins"
model = "tasks"
[[task]]
name = "a"
program = """
await 1
join b
"""
[[task]]
name = "b"
program = """
await 1
join a
"""
"#,
    );
    assert_eq!(
        detail(&v),
        "cycle of 2 tasks over 0 lock(s):\n  a#1 waits for b#1 to finish (join at line 8)\n  b#1 waits for a#1 to finish (join at line 14)"
    );
}

#[test]
fn a_reader_queued_behind_a_writer_it_blocks() {
    // r1 holds a read lock and, later, asks for it again; w queued for the write lock in
    // between. The lock is fair, so r1's second read waits behind w, and w waits for r1.
    let v = verdict(
        r#"
name = "fair"
model = "tasks"
[locks]
rw = "rwlock"
[[task]]
name = "r1"
program = """
read_lock rw
await 2
read_lock rw
"""
[[task]]
name = "w"
program = """
await 1
write_lock rw
"""
"#,
    );
    assert_eq!(
        detail(&v),
        "cycle of 2 tasks over 1 lock(s):\n  r1#1 waits for rw (read_lock at line 11) behind w#1, queued first\n  w#1 waits for rw (write_lock at line 17), held by r1#1 since its line 9"
    );
}

#[test]
fn a_cancelled_waiter_leaves_the_queue() {
    // `waiter` queues for m behind `holder`; the canceller cancels it; `holder` then releases
    // and everyone finishes.
    let v = verdict(
        r#"
name = "cancel"
model = "tasks"
[locks]
m = "mutex"
[[task]]
name = "holder"
program = """
with m {
  await 3
}
"""
[[task]]
name = "waiter"
program = """
await 1
with m {
  emit got_it
}
"""
[[task]]
name = "canceller"
program = """
await 2
cancel waiter
"""
[[final]]
check = "cancelled(waiter) == 1 and count(got_it) == 0"
"#,
    );
    assert_eq!(v, Verdict::Pass, "{}", v.summary());
}
