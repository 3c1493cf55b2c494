//! Every violation reported: a run goes on past its first broken invariant and records the
//! first break of each; the verdict names the first; `[[expect]]` can hold a variant to
//! exactly a set of breaks (`violates`) or to at least some (`includes`); stopping at the
//! first break is an explicit option.

use racelab::engine::Verdict;
use racelab::explore::run::{judge, run_variant};
use racelab::prelude::*;

fn ice_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml")).expect("reads")
}

fn ice(text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), "dispose_during_ice.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// A seed of flag_callback that breaks both of its invariants.
fn both_seed(sim: &mut Sim) -> u64 {
    (0..100).find(|&s| sim.seed(s).violations.len() == 2).expect("a seed breaking two invariants")
}

#[test]
fn a_run_records_every_invariant_it_breaks_and_the_first_is_the_verdict() {
    let s = ice(&ice_text());
    let mut sim = Sim::new(&s, "flag_callback").expect("builds");
    let seed = both_seed(&mut sim);
    let o = sim.seed(seed);
    let names: Vec<&str> = o.violations.iter().filter_map(Verdict::failed_check).collect();
    assert_eq!(names, ["no_send_on_disposed_client", "no_callback_leak"]);
    assert_eq!(o.verdict, o.violations[0]);
    let ticks: Vec<u64> =
        o.violations.iter().map(|v| if let Verdict::Violation { tick, .. } = v { *tick } else { 0 }).collect();
    assert!(ticks[0] <= ticks[1], "in the order they broke: {ticks:?}");
    assert_eq!(o.checks(), names);

    // Stopping at the first break is asked for, never the default.
    sim.stop_at_first(true);
    let first = sim.seed(seed);
    assert_eq!(first.verdict, o.verdict);
    assert_eq!(first.violations.len(), 1);
    assert!(first.ticks <= o.ticks);
    sim.stop_at_first(false);
    assert_eq!(sim.seed(seed), o, "the option does not stick to later runs once off");
}

#[test]
fn violates_means_exactly_that_set_and_includes_at_least() {
    let text = ice_text();
    let block = "variant = \"flag_callback\"\nviolates = [\"no_send_on_disposed_client\", \"no_callback_leak\"]";
    assert!(text.contains(block));
    let seeds = 0..40;

    let exact = ice(&text);
    assert_eq!(judge(&exact, &run_variant(&exact, "flag_callback", seeds.clone()).expect("runs")), Ok(()));

    let too_few = ice(&text.replace(block, "variant = \"flag_callback\"\nviolates = \"no_send_on_disposed_client\""));
    let err = judge(&too_few, &run_variant(&too_few, "flag_callback", seeds.clone()).expect("runs")).unwrap_err();
    assert!(err.starts_with("expected exactly no_send_on_disposed_client to fail, but"), "{err}");
    assert!(err.contains("also failed no_callback_leak"), "{err}");

    let includes = ice(&text.replace(block, "variant = \"flag_callback\"\nincludes = \"no_send_on_disposed_client\""));
    assert_eq!(judge(&includes, &run_variant(&includes, "flag_callback", seeds.clone()).expect("runs")), Ok(()));

    let never = ice(
        &text.replace(block, "variant = \"flag_callback\"\nincludes = [\"no_callback_leak\", \"connect_settles\"]")
    );
    let err = judge(&never, &run_variant(&never, "flag_callback", seeds).expect("runs")).unwrap_err();
    assert!(err.starts_with("expected connect_settles to fail, but none of 40 seeds did (they failed: "), "{err}");
}

#[test]
fn an_expectation_naming_no_invariant_is_an_error() {
    let text = ice_text().replace(
        "variant = \"flag_callback\"\nviolates = [\"no_send_on_disposed_client\", \"no_callback_leak\"]",
        "variant = \"flag_callback\"\nincludes = []",
    );
    let e = Scenario::parse(&Registry::builtin(), "x.toml", &text).unwrap_err().to_string();
    assert!(e.contains("`includes` names no invariant"), "{e}");
}
