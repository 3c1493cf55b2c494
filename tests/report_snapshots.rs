//! Insta snapshots of `racelab explain`'s text timeline and Mermaid diagram for one failure
//! of each model, found the way a user finds it: the first seed that breaks the invariant.

mod report_support;

use racelab::engine::Verdict;
use racelab::report::view::View;
use racelab::report::{mermaid, timeline};
use report_support::{CASES, first_failure, scenario};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn text_and_mermaid_of_one_failure_per_model() {
    settings().bind(|| {
        for &(name, variant, invariant) in CASES {
            let s = scenario(name);
            let (sim, out) = first_failure(&s, variant, invariant, s.seeds.clone());
            let view = View::new(sim.trace().events(), sim.names(), &out)
                .reproduce(format!("racelab run scenarios/{name}.toml --variant {variant} --seed {}", out.seed));
            let text = timeline::render_view(&view, true);
            assert!(text.lines().any(|l| l.starts_with(">>") && l.contains(invariant)), "{text}");
            assert!(text.lines().last().is_some_and(|l| l.starts_with(">>")), "ends at its last break: {text}");
            insta::assert_snapshot!(format!("explain_text__{name}__{variant}"), text);
            insta::assert_snapshot!(format!("explain_mermaid__{name}__{variant}"), mermaid::render(&view));
        }
    });
}

#[test]
fn focus_keeps_the_events_touching_the_ids_the_violation_and_named_states() {
    let s = scenario("dispose_during_ice");
    let (sim, out) = first_failure(&s, "flag_callback", "no_candidate_for_removed_connection", s.seeds.clone());
    let view = View::new(sim.trace().events(), sim.names(), &out);
    // The connection the verdict names first: the one whose candidate went out.
    let Verdict::Violation { ids, .. } = &out.verdict else { panic!("a violation: {:?}", out.verdict) };
    let pc = ids[0].clone();
    assert!(pc.starts_with("pc:"), "{pc}");
    let ids = view.resolve(std::slice::from_ref(&pc)).expect("the connection is in the run");
    let focused = view.focus(ids);
    assert!(focused.shown.len() < focused.events.len());
    let text = timeline::render_view(&focused, false);
    let body: Vec<&str> = text.lines().skip_while(|l| !l.trim_start().starts_with("tick")).skip(1).collect();
    assert!(!body.is_empty());
    for line in &body {
        // Besides the focused id: the violation, and the named ids' state changes.
        assert!(line.contains(pc.as_str()) || line.starts_with(">>") || line.starts_with(" *"), "{line}");
    }
    assert!(text.contains(&format!("focus: {pc} (")), "{text}");
    assert!(text.lines().any(|l| l.starts_with(" *") && l.contains(&format!("{pc}   state removed"))), "{text}");
    settings().bind(|| insta::assert_snapshot!("explain_text_focus__dispose_during_ice__flag_callback", text));

    let err = View::new(sim.trace().events(), sim.names(), &out).resolve(&["peer:P9".to_owned()]).unwrap_err();
    assert!(err.contains("`peer:P9` does not appear in this run") && err.contains("client#1"), "{err}");
}
