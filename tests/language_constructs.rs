//! The language's constructs for waiting, clocks, queues, ids, lists, spawning with
//! arguments and invariants, and its limits (value size, fuel) as `Halted` verdicts.

use racelab::engine::Verdict;
use racelab::prelude::*;

fn scenario(text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), "inline.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn run(text: &str, seed: u64) -> Outcome {
    let s = scenario(text);
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    sim.seed(seed)
}

fn pass(text: &str) {
    for seed in 0..20 {
        let o = run(text, seed);
        assert_eq!(o.verdict, Verdict::Pass, "seed {seed}: {}", o.verdict.summary());
    }
}

#[test]
fn wait_until_tells_a_condition_from_a_timeout() {
    pass(
        r#"
name = "w"
model = "tasks"
[shared]
open = false
[[task]]
name = "opener"
program = """
await 5
write open = true
"""
[[task]]
name = "waiter"
program = """
wait until open timeout 2 -> early
assert not early "not open after 2 ticks"
assert now == 2 "the timeout ends the wait at tick 2"
wait until open timeout 10 -> later
assert later "open by tick 12"
assert now == 5 "woken when the condition became true"
"""
"#,
    );
}

#[test]
fn a_wait_without_outcome_local_raises_on_timeout() {
    let o = run(
        r#"
name = "w"
model = "tasks"
[shared]
open = false
[[task]]
name = "waiter"
program = """
wait until open timeout 3
"""
"#,
        0,
    );
    match o.verdict {
        Verdict::Violation { invariant, detail, .. } => {
            assert_eq!(invariant, "task_failed");
            assert!(detail.contains("TimeoutError"), "{detail}");
        }
        other => panic!("{}", other.summary()),
    }
}

#[test]
fn queues_carry_values_in_order_and_recv_can_time_out() {
    pass(
        r#"
name = "q"
model = "tasks"
[queues]
events = 2
[[task]]
name = "producer"
program = """
send events "a"
send events [1, 2]
try {
  send events "c"
  assert false "a full queue refuses"
} catch e {
  assert e == "QueueFull: events holds 2" "QueueFull"
}
"""
[[task]]
name = "consumer"
program = """
recv events -> x
assert x == "a" "first in, first out"
recv events -> y
assert y[1] == 2 and len(y) == 2 "lists travel whole"
try {
  recv events timeout 4 -> z
} catch e {
  assert e == "TimeoutError: nothing arrived on events in time" "recv timeout"
  return
}
assert false "nothing more was sent"
"""
"#,
    );
}

#[test]
fn now_reads_each_party_clock_with_its_skew() {
    pass(
        r#"
name = "c"
model = "tasks"
[service.server]
clock_skew = 100
latency = [3, 3]
handler = """
return now
"""
[[task]]
name = "client"
clock_skew = -2
start = 10
program = """
assert now == 8 "two ticks behind"
call server -> t
assert t == 113 "the server's clock at arrival, 100 ahead"
assert now == 14 "the reply after 3 more ticks"
"""
"#,
    );
}

#[test]
fn spawn_passes_arguments_and_new_gives_fresh_ids() {
    pass(
        r#"
name = "s"
model = "tasks"
[shared]
seen = {}
[[task]]
name = "main"
program = """
new socket -> a
new socket -> b
assert a == "socket#1" and b == "socket#2" "fresh ids"
spawn worker(a, 7) -> h
join h
read seen -> s
assert s["socket#1"] == 7 "the worker got both arguments"
"""
[[task]]
name = "worker"
start = "spawn"
program = """
read seen -> s
set s[arg[0]] = arg[1]
write seen = s
"""
"#,
    );
}

#[test]
fn an_invariant_is_reported_at_the_tick_it_first_breaks() {
    let o = run(
        r#"
name = "i"
model = "tasks"
[shared]
balance = 10
[[task]]
name = "spender"
program = """
await 28
write balance = -5
await 50
write balance = 10
"""
[[invariant]]
name = "never_negative"
check = "balance >= 0"
"#,
        0,
    );
    match o.verdict {
        Verdict::Violation { invariant, tick, detail, .. } => {
            assert_eq!((invariant.as_ref(), tick), ("never_negative", 28), "{detail}");
            assert!(detail.contains("balance = -5"), "{detail}");
        }
        other => panic!("{}", other.summary()),
    }
    assert_eq!(o.ticks, 78, "the run goes on after the violation");
}

#[test]
fn a_value_past_the_size_cap_halts_the_run() {
    let o = run(
        r#"
name = "big"
model = "tasks"
[[task]]
name = "doubler"
program = """
set s = "xx"
loop {
  set s = s + s
  await 1
}
"""
"#,
        0,
    );
    assert_eq!(o.verdict, Verdict::Halted { limit: "max_value_size".into() });
    let o = run(
        r#"
name = "nest"
model = "tasks"
[[task]]
name = "nester"
program = """
set l = [1]
loop {
  set l = [l, l]
  await 1
}
"""
"#,
        0,
    );
    assert_eq!(o.verdict, Verdict::Halted { limit: "max_value_size".into() });
}

#[test]
fn constructs_are_refused_where_they_cannot_work() {
    let bad = |program: &str, want: &str| {
        let text = format!(
            "name = \"x\"\nmodel = \"tasks\"\n[queues]\nq = 0\n[service.s]\nhandler = \"\"\"\n{program}\n\"\"\"\n[[task]]\nname = \"t\"\nprogram = \"call s\"\n"
        );
        let e = Scenario::parse(&Registry::builtin(), "x.toml", &text).expect_err(program);
        assert!(e.to_string().contains(want), "{program}: {e}");
    };
    bad("wait until true", "cannot wait");
    bad("recv q -> x", "cannot receive from queues");
    bad("send nowhere 1", "undefined queue `nowhere`");
    bad("set now = 1", "`now` is built in");
    let text = "name = \"x\"\nmodel = \"tasks\"\n[[task]]\nname = \"t\"\nprogram = \"wait open\"\n";
    let e = Scenario::parse(&Registry::builtin(), "x.toml", text).expect_err("wait without until");
    assert!(e.to_string().contains("expected `until` after `wait`"), "{e}");
    assert!(e.to_string().contains("x.toml:5:"), "located: {e}");
}

#[test]
fn variants_patch_one_handler_one_value_one_option_or_a_constant() {
    let text = r#"
name = "patch"
model = "tasks"
[const]
LIMIT = 2
[shared]
n = 0
[service.api]
handler = "return 1"
[[task]]
name = "t"
program = """
call api -> x
read n -> v
write n = v + x + LIMIT
"""
[[final]]
name = "n_is_3"
check = "n == 3"
[variant.base]
about = "the file as written"
[variant.handler]
about = "only the handler changes"
service.api.handler = "return 0"
[variant.initial]
about = "only a shared initial value changes"
shared.n = 1
[variant.constant]
like = "initial"
about = "like `initial`, and LIMIT is 1"
const.LIMIT = 1
[variant.lenient]
like = "handler"
options.allow_failures = true
"#;
    let s = scenario(text);
    let check = |variant: &str, want_pass: bool| {
        let mut sim = Sim::new(&s, variant).unwrap_or_else(|e| panic!("{e}"));
        let o = sim.seed(0);
        assert_eq!(o.verdict == Verdict::Pass, want_pass, "{variant}: {}", o.verdict.summary());
    };
    check("base", true); // 0 + 1 + 2
    check("handler", false); // 0 + 0 + 2
    check("initial", false); // 1 + 1 + 2
    check("constant", true); // 1 + 1 + 1
    check("lenient", false); // inherits the handler patch
    let e = Scenario::parse(&Registry::builtin(), "x.toml", &text.replace("shared.n = 1", "shared.m = 1"))
        .expect_err("an undeclared shared variable");
    assert!(e.to_string().contains("`m` is not declared in [shared]"), "{e}");
}

#[test]
fn procedures_are_shared_by_tasks_and_handlers() {
    pass(
        r#"
name = "fn"
model = "tasks"
[shared]
log = []
[fn.backoff]
params = ["attempt"]
body = """
if attempt > 3 {
  return 8
}
return attempt * 2
"""
[fn.append]
params = ["item", "times"]
body = """
set i = 0
while i < times {
  read log -> l
  write log = l + [item]
  set i = i + 1
}
"""
[service.api]
handler = """
call backoff(arg) -> d
return d
"""
[[task]]
name = "t"
program = """
call backoff(2) -> d
assert d == 4 "a procedure returns a value"
call api(9) -> e
assert e == 8 "a handler calls it too"
set attempt = 100
call append("x", 2)
assert attempt == 100 "a procedure's locals are its own"
read log -> l
assert l == ["x", "x"] "and it reaches shared state like its caller"
"""
"#,
    );
    let e = Scenario::parse(
        &Registry::builtin(),
        "x.toml",
        "name = \"x\"\nmodel = \"tasks\"\n[fn.f]\nbody = \"call f\"\n[[task]]\nname = \"t\"\nprogram = \"call f\"\n",
    )
    .expect_err("recursion");
    assert!(e.to_string().contains("`f` calls itself: procedures cannot recurse"), "{e}");
}

#[test]
fn callbacks_registered_by_a_task_are_fired_by_a_handler_until_unregistered() {
    let text = r#"
name = "cb"
model = "tasks"
[shared]
got = []
[service.chat]
latency = [1, 2]
handler = """
fire message arg
return "ok"
"""
[[task]]
name = "client"
program = """
set tag = "mine"
on chat.message {
  read got -> g
  write got = g + [tag + ":" + arg]
}
call chat("one")
call chat("two")
await 5
off chat.message
call chat("three")
await 5
read got -> g
assert g == ["mine:one", "mine:two"] "each fire ran the body with the registrant's locals, none after off"
"""
"#;
    pass(text);
    let s = scenario(text);
    let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Full);
    sim.seed(0);
    let names: Vec<&str> = sim.trace().events().iter().map(|e| sim.names().name(e.actor)).collect();
    assert!(names.contains(&"client#1.on_message#2"), "a callback run has a stable name: {names:?}");
    let bad = "name = \"x\"\nmodel = \"tasks\"\n[service.s]\n[[task]]\nname = \"t\"\nprogram = \"fire e\"\n";
    let e = Scenario::parse(&Registry::builtin(), "x.toml", bad).expect_err("a task cannot fire");
    assert!(e.to_string().contains("only a service handler fires callbacks"), "{e}");
}

#[test]
fn a_handler_takes_several_arguments_and_reads_shared_state() {
    pass(
        r#"
name = "h"
model = "tasks"
[shared]
session = "s1"
[service.api]
state = { hits = 0 }
handler = """
read session -> current
read hits -> h
write hits = h + 1
if arg[0] != current {
  fail "401 stale session " + arg[0]
}
return arg[1] * 2
"""
[[task]]
name = "t"
program = """
call api("s1", 21) -> r
assert r == 42 "two arguments"
write session = "s2"
try {
  call api("s1", 1)
} catch e {
  assert e == "401 stale session s1" "the handler saw the new session"
}
"""
"#,
    );
}

#[test]
fn a_shared_map_grown_an_entry_at_a_time_halts_at_the_cap() {
    let o = run(
        r#"
name = "grow"
model = "tasks"
[shared]
m = {}
[[task]]
name = "t"
program = """
set e = "0123456789"
set n = 0
loop {
  set e = e + e
  set n = n + 1
  if n == 11 {
    break
  }
}
set i = 0
loop {
  write m[i] = e
  set i = i + 1
  if i % 1000 == 0 {
    await 1
  }
}
"""
"#,
        0,
    );
    // Entries of 20,480 bytes: the sixth write takes the map past the cap. (Each write's
    // re-measure of the whole map is charged to the fuel, so a map of small entries halts on
    // `max_steps` long before it could reach the cap: bounded either way.)
    assert_eq!(o.verdict, Verdict::Halted { limit: "max_value_size".into() });
}
