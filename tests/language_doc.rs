//! Every example in `docs/language.md` runs: a `program` block inside the document's harness
//! (it must pass on every seed tried), a `toml` block as a complete scenario (it must meet
//! its `[[expect]]` entries, or pass when it has none). So the reference cannot rot.

use racelab::engine::Verdict;
use racelab::explore::run::{judge, run_variant};
use racelab::prelude::*;

const DOC: &str = include_str!("../docs/language.md");

/// `(info string, body, line)` of every fenced block.
fn blocks() -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    let mut body = String::new();
    for (i, line) in DOC.lines().enumerate() {
        match (&open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some((info.trim().to_owned(), i + 1));
                body.clear();
            }
            (Some((info, at)), Some("")) => {
                out.push((info.clone(), body.clone(), *at));
                open = None;
            }
            (Some(_), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed block in the document");
    out
}

#[test]
fn every_example_in_the_reference_runs() {
    let all = blocks();
    let harness = all.iter().find(|(info, ..)| info == "toml harness").map(|(_, b, _)| b.clone()).expect("a harness");
    let (mut programs, mut scenarios) = (0, 0);
    for (info, body, line) in &all {
        match info.as_str() {
            "program" => {
                programs += 1;
                let text = harness.replace("PROGRAM", body.trim_end());
                let s = Scenario::parse(&Registry::builtin(), &format!("language.md:{line}"), &text)
                    .unwrap_or_else(|e| panic!("example at line {line}: {e}"));
                let mut sim = Sim::new(&s, "default").unwrap_or_else(|e| panic!("line {line}: {e}"));
                for seed in 0..10 {
                    let o = sim.seed(seed);
                    assert_eq!(
                        o.verdict,
                        Verdict::Pass,
                        "example at line {line}, seed {seed}: {}",
                        o.verdict.summary()
                    );
                }
            }
            "toml" => {
                scenarios += 1;
                let s = Scenario::parse(&Registry::builtin(), &format!("language.md:{line}"), body)
                    .unwrap_or_else(|e| panic!("example at line {line}: {e}"));
                for v in &s.variants {
                    let seeds = s.seeds.start..s.seeds.end.min(s.seeds.start + 100);
                    let r = run_variant(&s, v, seeds).unwrap_or_else(|e| panic!("line {line}: {e}"));
                    if s.expectation(v).is_some() {
                        judge(&s, &r).unwrap_or_else(|why| panic!("example at line {line}, variant {v}: {why}"));
                    } else {
                        assert!(r.failures.is_empty(), "example at line {line}, variant {v}: {:?}", r.failures);
                    }
                }
            }
            "toml harness" => {}
            other => panic!("a block at line {line} with info `{other}`: expected program, toml or toml harness"),
        }
    }
    // Every statement of the language has an example (a guard against a section losing its
    // block silently).
    assert!(programs >= 14, "{programs} program examples");
    assert!(scenarios >= 5, "{scenarios} scenario examples");
    for statement in racelab::models::tasks::parser::STATEMENTS {
        let shown = all.iter().any(|(info, body, _)| {
            info == "program" && body.lines().any(|l| l.split_whitespace().next() == Some(statement))
                || (info == "toml" && body.contains(&format!("{statement} ")))
        });
        assert!(shown, "no example uses `{statement}`");
    }
}
