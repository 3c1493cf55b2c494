//! Bad step fields and `[adapters]` values give errors located at the offending value.

use racelab::prelude::*;

const HEAD: &str = "name = \"bad\"\nmodel = \"adapters\"\n";

/// Parse `body` after a two-line header; the error must name line `line` (of the whole file),
/// column `col`, and contain `needle`.
fn fails(body: &str, line: usize, col: usize, needle: &str) {
    let text = format!("{HEAD}{body}");
    let err = match Scenario::parse(&Registry::builtin(), "bad.toml", &text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(err.file, "bad.toml");
    assert!(err.message.contains(needle), "message `{}` lacks `{needle}`", err.message);
    assert_eq!((err.line, err.column), (line, col), "located at {}:{}: {}", err.line, err.column, err.message);
}

#[test]
fn unknown_adapter_lists_the_known_ones() {
    fails(
        "[[step]]\nat = 0\ndo = \"register_callback\"\nadapter = \"twich\"\nhandler = \"h\"\n",
        6,
        11,
        "unknown adapter `twich`; expected one of: twitch, obs, test",
    );
}

#[test]
fn clone_must_name_a_new_adapter() {
    fails(
        "[[step]]\nat = 0\ndo = \"clone_adapter\"\nfrom = \"twitch\"\nas = \"obs\"\n",
        7,
        6,
        "adapter `obs` already exists",
    );
}

#[test]
fn a_clone_is_usable_only_after_its_step() {
    // The clone's window may end after the registration's tick.
    let body = "[[step]]\nat = [0, 10]\ndo = \"clone_adapter\"\nfrom = \"twitch\"\nas = \"c\"\n\n\
                [[step]]\nat = 5\ndo = \"register_callback\"\nadapter = \"c\"\nhandler = \"h\"\n";
    fails(body, 12, 11, "created by the `clone_adapter` step at line 3, which may run after this step");
    // Due the same tick, after it in the file: fine.
    let ok = "[[step]]\nat = 3\ndo = \"clone_adapter\"\nfrom = \"twitch\"\nas = \"c\"\n\n\
              [[step]]\nat = 3\ndo = \"register_callback\"\nadapter = \"c\"\nhandler = \"h\"\n";
    Scenario::parse(&Registry::builtin(), "ok.toml", &format!("{HEAD}{ok}")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn unknown_auth_kind() {
    fails(
        "[[step]]\nat = 0\ndo = \"auth_event\"\nkind = \"expired\"\n",
        6,
        8,
        "expected one of: token_refreshed, auth_failed, recovered",
    );
}

#[test]
fn counts_and_ticks_must_be_positive_integers() {
    fails(
        "[[step]]\nat = 0\ndo = \"message_burst\"\nchannel = \"c\"\ncount = 0\n",
        7,
        9,
        "`count` = 0 is out of range; expected 1..=10000",
    );
    fails(
        "[[step]]\nat = 0\ndo = \"connection_silent\"\nticks = \"ten\"\n",
        6,
        9,
        "`ticks` must be a non-negative integer, found a string",
    );
    fails("[[step]]\nat = 0\ndo = \"persistent_failure\"\nticks = -3\n", 6, 9, "`ticks` must not be negative");
}

#[test]
fn missing_unknown_and_empty_fields() {
    fails("[[step]]\nat = 0\ndo = \"join\"\n", 3, 1, "step `join` needs a `channel` field");
    fails(
        "[[step]]\nat = 0\ndo = \"leave\"\nchanel = \"c\"\n",
        6,
        1,
        "unknown field `chanel` in step `leave`; expected one of: at, do, channel",
    );
    fails("[[step]]\nat = 0\ndo = \"connection_drop\"\nhard = true\n", 6, 1, "unknown field `hard`");
    fails(
        "[[step]]\nat = 0\ndo = \"register_callback\"\nadapter = \"twitch\"\nhandler = \" \"\n",
        7,
        11,
        "`handler` must not be empty",
    );
}

#[test]
fn unknown_step_lists_this_models_steps() {
    fails(
        "[[step]]\nat = 0\ndo = \"teleport\"\n",
        5,
        6,
        "register_callback, clone_adapter, auth_event, join, leave, message_burst",
    );
}

#[test]
fn adapters_section_is_checked() {
    fails(
        "[adapters]\nquota = 5\nretries = 3\n",
        5,
        1,
        "unknown field `retries` in `[adapters]`; expected one of: quota",
    );
    fails("[adapters]\nhealth_period = 10\nprobe = 10\n", 5, 9, "`probe` = 10 is out of range; expected 1..=9");
    fails("[adapters]\nkeepalive = 60\n", 4, 13, "`keepalive` = 60 is out of range; expected 1..=59");
    fails("max_ticks = 100\n[adapters]\nobserve_until = 500\n", 5, 17, "expected 1..=100 (at most max_ticks)");
    fails("[adapters]\nquota = \"many\"\n", 4, 9, "`quota` must be a non-negative integer");
}

#[test]
fn the_section_and_defaults_are_accepted() {
    let s =
        Scenario::parse(&Registry::builtin(), "ok.toml", &format!("{HEAD}[adapters]\nquota = 2\nmax_failures = 3\n"))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.variants.len(), 8);
    let mut sim = Sim::new(&s, "baseline").expect("builds");
    assert!(sim.seed(0).verdict.is_pass(), "nothing happens, nothing breaks");
}
