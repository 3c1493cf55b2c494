//! Programs with mistakes are refused before anything runs, with the file, line and column
//! of the mistake inside the TOML string, and a message that says what was expected.

use racelab::prelude::*;

const HEAD: &str = r#"name = "errors"
model = "tasks"

[shared]
count = 0
cache = {}

[locks]
m = "mutex"
rw = "rwlock"

[service.api]
latency = 1
state = { hits = 0 }

[[task]]
name = "helper"
start = "spawn"
program = "emit helped"
"#;

/// The file made of HEAD and a task `worker` running `program`.
fn file(program: &str) -> String {
    format!("{HEAD}\n[[task]]\nname = \"worker\"\nprogram = \"\"\"\n{program}\"\"\"\n")
}

fn error_of(text: &str) -> ScenarioError {
    match Scenario::parse(&Registry::builtin(), "errors.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

/// Line and column (1-based) of the `nth` occurrence of `needle` in `text` at or after
/// `from`; a `|` in the needle marks the exact spot (else its start).
fn position_from(text: &str, from: usize, needle: &str, nth: usize) -> (usize, usize) {
    let mark = needle.find('|').unwrap_or(0);
    let plain = needle.replace('|', "");
    let at = text[from..]
        .match_indices(&plain)
        .nth(nth)
        .map(|(i, _)| from + i + mark)
        .unwrap_or_else(|| panic!("`{plain}` is in the file"));
    let before = &text[..at];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
}

fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    position_from(text, 0, needle, nth)
}

/// `program` is refused with a message containing `message`, located at the `nth`
/// occurrence of `at` within the program.
fn refused(program: &str, at: &str, nth: usize, message: &str) -> ScenarioError {
    let text = file(program);
    let e = error_of(&text);
    assert!(e.message.contains(message), "message: {}\nexpected to contain: {message}", e.message);
    let from = text.find("name = \"worker\"").unwrap_or(0);
    assert_eq!((e.line, e.column), position_from(&text, from, at, nth), "location of: {}", e.message);
    assert_eq!(e.file, "errors.toml");
    e
}

#[test]
fn a_correct_program_is_accepted() {
    let text = file("with m {\n  read count -> c\n  write count = c + 1\n}\nspawn helper -> h\njoin h\n");
    assert!(Scenario::parse(&Registry::builtin(), "errors.toml", &text).is_ok());
}

#[test]
fn undefined_local_variable() {
    refused(
        "read count -> c\nwrite count = d + 1\n",
        "d + 1",
        0,
        "undefined variable `d`; locals defined before this point: self, copy, now, arg, c",
    );
}

#[test]
fn a_shared_variable_must_be_read_before_use() {
    refused(
        "write count = count + 1\n",
        "count + 1",
        0,
        "`count` is a shared variable: read it into a local first (`read count -> count`)",
    );
}

#[test]
fn undefined_shared_variable() {
    refused(
        "read counter -> c\n",
        "counter",
        0,
        "undefined shared variable `counter`; declared in [shared]: count, cache",
    );
    refused("set k = 1\nwrite cahce[k] = 2\n", "cahce", 0, "undefined shared variable `cahce`");
}

#[test]
fn undefined_lock() {
    refused("lock mutex\n", "mutex\n", 0, "undefined lock `mutex`; declared in [locks]: m, rw");
    refused("with n {\n  emit x\n}\n", "n {", 0, "undefined lock `n`");
}

#[test]
fn lock_taken_in_the_wrong_mode() {
    refused("lock rw\n", "rw\n", 0, "`rw` is a reader-writer lock: take it with `read_lock rw` or `write_lock rw`");
    refused("read_lock m\n", "m\n", 0, "`m` is a mutex");
}

#[test]
fn undefined_task() {
    refused("spawn helpr\n", "helpr", 0, "undefined task `helpr`; declared tasks: helper, worker");
    refused("cancel nobody\n", "nobody", 0, "undefined task `nobody`");
    refused("join ghost\n", "ghost", 0, "undefined task `ghost`");
}

#[test]
fn undefined_service() {
    refused("call aip -> r\n", "aip", 0, "undefined service `aip`; declared services: api");
}

#[test]
fn unlock_of_a_lock_not_held() {
    refused(
        "lock m\nunlock m\nunlock m\n",
        "m\n",
        2,
        "`unlock m` where this task cannot hold `m`: no `lock m` comes before it on any path",
    );
    // Held on one branch only: the unlock may be right, so it is accepted.
    let text = file("read count -> c\nif c > 0 {\n  lock m\n}\nunlock m\n");
    assert!(Scenario::parse(&Registry::builtin(), "errors.toml", &text).is_ok());
    // A lock taken in a loop may be held when the loop body starts again.
    let text = file("loop {\n  unlock m\n  lock m\n  break\n}\n");
    assert!(Scenario::parse(&Registry::builtin(), "errors.toml", &text).is_ok());
    // Released by the `with` block: an unlock after it is statically wrong.
    refused("with m {\n  emit x\n}\nunlock m\n", "m\n", 0, "`unlock m` where this task cannot hold `m`");
}

#[test]
fn malformed_expressions() {
    refused("write count = 1 +\n", "+|\n", 0, "expected an expression after `+`, found the end of the line");
    refused("set x = (1 + 2\n", "2|\n", 0, "expected `)` to close the parenthesis");
    refused("read count -> c\nif c = 1 {\n  emit x\n}\n", "= 1", 0, "`=` assigns; to compare write `==`");
    refused("read count -> c\nassert 1 < c < 3 \"x\"\n", "< 3", 0, "comparisons do not chain");
    refused("set x = {1}\n", "1}", 0, "only the empty map `{}` can be written");
    refused("set x = \"open\n", "\"open", 0, "this string has no closing `\"` on its line");
}

#[test]
fn unknown_statement_and_unclosed_block() {
    refused("incr count\n", "incr", 0, "unknown statement `incr`; expected one of: lock, unlock");
    refused(
        "x = 1\n",
        "x = 1",
        0,
        "to assign a local write `set x = ...`, to assign a shared variable `write x = ...`",
    );
    refused("loop {\n  emit x\n", "{\n", 0, "this `{` is never closed");
    refused("break\n", "break", 0, "`break` outside a loop");
}

#[test]
fn service_handlers_cannot_wait() {
    let text = format!(
        "{HEAD}\n[service.slow]\nhandler = \"\"\"\nawait 3\n\"\"\"\n\n[[task]]\nname = \"w\"\nprogram = \"call slow\"\n"
    );
    let e = error_of(&text);
    assert_eq!((e.line, e.column), position(&text, "await 3", 0));
    assert!(e.message.contains("a service handler runs at once, without waiting: it cannot await"), "{}", e.message);
    // A handler writes only the service's own state (it may read [shared]).
    let text = format!(
        "{HEAD}\n[service.s2]\nhandler = \"write count = 1\"\n\n[[task]]\nname = \"w\"\nprogram = \"call s2\"\n"
    );
    let e = error_of(&text);
    assert!(e.message.contains("undefined variable `count` in the state of service `s2`"), "{}", e.message);
}

#[test]
fn final_checks_are_checked_too() {
    let base = file("emit done\n");
    let e = error_of(&format!("{base}\n[[final]]\ncheck = \"cuont == 1\"\n"));
    assert!(e.message.starts_with("undefined shared variable `cuont`"), "{}", e.message);
    let text = format!("{base}\n[[final]]\ncheck = \"count(dnoe) == 1\"\n");
    let e = error_of(&text);
    assert_eq!((e.line, e.column), position(&text, "dnoe", 0));
    assert_eq!(e.message, "no program emits `dnoe`; emitted events: done, helped");
    let e = error_of(&format!("{base}\n[[final]]\ncheck = \"count == \"\n"));
    assert!(e.message.contains("expected an expression after `==`"), "{}", e.message);
}

#[test]
fn variants_need_a_program_for_every_task() {
    let text = format!("{HEAD}\n[[task]]\nname = \"worker\"\n\n[variant.a]\nhelper = \"emit x\"\n");
    let e = error_of(&text);
    assert_eq!((e.line, e.column), position(&text, "a]", 0));
    assert!(e.message.starts_with("variant `a` has no program for task `worker`"), "{}", e.message);
    let text = format!("{HEAD}\n[[task]]\nname = \"worker\"\nprogram = \"emit y\"\n\n[variant.b]\nlike = \"a\"\n");
    let e = error_of(&text);
    assert!(e.message.starts_with("`like` must name a variant declared above this one"), "{}", e.message);
}

#[test]
fn locations_survive_escapes_and_literal_strings() {
    // A basic string with escapes: the column is that of the raw text in the file.
    let text = format!("{HEAD}\n[[task]]\nname = \"worker\"\nprogram = \"emit a\\n\\tlock nope\"\n");
    let e = error_of(&text);
    assert_eq!((e.line, e.column), position(&text, "nope", 0), "{e}");
    // A literal multi-line string.
    let text = format!("{HEAD}\n[[task]]\nname = \"worker\"\nprogram = '''\nemit a\ncall nothing\n'''\n");
    let e = error_of(&text);
    assert_eq!((e.line, e.column), position(&text, "nothing", 0), "{e}");
}

#[test]
fn the_rendered_error_points_at_the_mistake() {
    let text = file("with m {\n  read count -> c\n  write count = c + ok\n}\n");
    let e = error_of(&text);
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("tasks_error_rendered", e.to_string());
    });
}
