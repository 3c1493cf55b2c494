//! Calls and replies of the task language travel the engine's wire: `[faults]` and a
//! service's link settings act on them, and a call's timeout is how a caller survives a loss.

use racelab::engine::Verdict;
use racelab::explore::run::run_variant;
use racelab::prelude::*;

fn scenario(text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), "inline.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// A client fetches a token; the wire drops 30% of envelopes until tick 100.
const LOSSY: &str = r#"
name = "lossy_token"
model = "tasks"
max_ticks = 1000
[options]
finish_within = 100
[faults]
drop = 0.3
heal_at = 100
[shared]
token = "none"
[service.auth]
latency = [1, 3]
handler = """
return "t1"
"""
[[task]]
name = "client"
[variant.no_timeout]
client = """
call auth("login") -> t
write token = t
"""
[variant.timeout_retry]
client = """
loop {
  try {
    call auth("login") timeout 8 -> t
    write token = t
    break
  } catch {
    await 1
  }
}
"""
[[final]]
name = "got_token"
check = "token == \"t1\""
"#;

#[test]
fn a_dropped_request_or_reply_hangs_a_caller_without_timeout() {
    let s = scenario(LOSSY);
    let r = run_variant(&s, "no_timeout", 0..200).unwrap_or_else(|e| panic!("{e}"));
    let hung = r.failures.get("task_finishes").map_or(0, |(n, _)| *n);
    assert!(hung > 20, "a loss on either leg should leave the caller waiting for ever: {:?}", r.failures);
    // A hang is a liveness failure, and every run that hangs lost an envelope.
    let mut sim = Sim::new(&s, "no_timeout").unwrap_or_else(|e| panic!("{e}"));
    for seed in 0..200 {
        let o = sim.seed(seed);
        if matches!(o.verdict, Verdict::Liveness { .. }) {
            assert!(o.metrics["wire.dropped"] >= 1, "seed {seed}: {:?}", o.metrics);
        } else {
            assert_eq!(o.metrics["wire.dropped"], 0, "seed {seed}");
        }
    }
}

#[test]
fn a_dropped_reply_specifically_fails_the_bug_and_the_timeout_fix_passes() {
    // Drop only replies: a partition would hold, so use a tape search for a run whose first
    // loss is the reply (the request arrived, the service served it).
    let s = scenario(LOSSY);
    let mut sim = Sim::new(&s, "no_timeout").unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Full);
    let mut found = None;
    for seed in 0..200 {
        let o = sim.seed(seed);
        let served = sim.trace().events().iter().any(|e| e.what == "serve");
        if o.metrics["wire.dropped"] == 1 && served {
            found = Some((seed, o));
            break;
        }
    }
    let (seed, o) = found.expect("some seed drops the reply");
    assert!(matches!(o.verdict, Verdict::Liveness { .. }), "seed {seed}: {}", o.verdict.summary());
    let fix = run_variant(&s, "timeout_retry", 0..200).unwrap_or_else(|e| panic!("{e}"));
    assert!(fix.failures.is_empty(), "the timeout fix holds: {:?}", fix.failures);
}

#[test]
fn service_fail_is_a_link_setting_the_caller_sees_as_a_connection_error() {
    let text = r#"
name = "flaky"
model = "tasks"
[faults]
heal_at = 50
[service.api]
latency = [2, 2]
fail = 1.0
[[task]]
name = "c"
program = """
try {
  call api -> x
} catch e {
  assert e == "ConnectionError: api did not answer" "the transport reports the loss"
  return
}
assert false "a failing link never answers"
"""
"#;
    let s = scenario(text);
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let o = sim.seed(0);
    assert_eq!(o.verdict, Verdict::Pass, "{}", o.verdict.summary());
    assert_eq!(o.metrics["wire.dropped"], 1);
    // The bounce comes back after the link's latency.
    assert_eq!(o.ticks, 2);
}

#[test]
fn faults_that_cannot_take_effect_are_errors() {
    let no_wire = r#"
name = "x"
model = "tasks"
[faults]
drop = 0.5
[[task]]
name = "a"
program = "await 1"
"#;
    let e = Scenario::parse(&Registry::builtin(), "x.toml", no_wire).expect_err("drop with nothing on the wire");
    assert!(e.to_string().contains("`drop` cannot take effect"), "{e}");
    let no_heal = r#"
name = "x"
model = "tasks"
[service.s]
fail = 0.5
[[task]]
name = "a"
program = "call s"
"#;
    let e = Scenario::parse(&Registry::builtin(), "x.toml", no_heal).expect_err("fail that never applies");
    assert!(e.to_string().contains("heals at tick 0"), "{e}");
    let bad_end = r#"
name = "x"
model = "tasks"
[faults]
[[faults.partition]]
between = ["api", "nobody"]
from = 1
to = 5
[service.api]
[[task]]
name = "a"
program = "call api"
"#;
    let e = Scenario::parse(&Registry::builtin(), "x.toml", bad_end).expect_err("unknown partition end");
    assert!(e.to_string().contains("`nobody` is no party"), "{e}");
}

#[test]
fn a_partition_holds_calls_until_it_ends() {
    let text = r#"
name = "cut"
model = "tasks"
[faults]
[[faults.partition]]
between = ["client#1", "api"]
from = 0
to = 30
[service.api]
[[task]]
name = "client"
program = """
call api -> x
assert false "reached"
"#;
    let text = text.replace("assert false \"reached\"", "assert false \"reached\"\n\"\"\"");
    let s = scenario(&text);
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    let o = sim.seed(0);
    match &o.verdict {
        Verdict::Violation { invariant, tick, .. } => {
            assert_eq!(*invariant, "assert");
            assert!(*tick >= 30, "held until the cut ends: tick {tick}");
        }
        other => panic!("{}", other.summary()),
    }
}

#[test]
fn the_html_report_draws_a_call_as_arrows_with_its_arguments_and_result() {
    use racelab::report::html;
    use racelab::report::view::View;
    let path = format!("{}/scenarios/cookbook_lost_reply.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&s, "no_timeout").unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Full);
    let seed = (0..200).find(|&seed| matches!(sim.seed(seed).verdict, Verdict::Liveness { .. })).expect("a hang");
    let out = sim.seed(seed);
    let report = html::render(&View::new(sim.trace().events(), sim.names(), &out));
    assert!(report.contains("request #1: client#1 \u{2192} api"), "the request is an arrow");
    assert!(report.contains("args=&quot;GET /me&quot;</title>"), "with its arguments");
    assert!(report.contains("DROPPED"), "the lost envelope is marked");
}
