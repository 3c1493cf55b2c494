//! Helpers shared by the tests that drive the `racelab` binary or need a scratch folder.
//! Each test crate uses only some of them, hence the `dead_code` allowances.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Run the `racelab` binary with `args` from the repository root.
#[allow(dead_code)]
pub fn racelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Annotations are for GitHub's log, not for what these tests read.
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("the binary runs")
}

/// A run's standard output and standard error as text.
#[allow(dead_code)]
pub fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// An empty scratch folder, unique to this test crate, `name` and process.
#[allow(dead_code)]
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racelab-{}-{name}-{}", env!("CARGO_CRATE_NAME"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Check that `xml` is a JUnit report as CI systems read it (the common JUnit schema):
/// well-formed, `<testsuites>` holding `<testsuite>`s holding `<testcase>`s, each case with
/// at most one of `<failure>` or `<skipped>`, the required attributes present, and the
/// `tests`, `failures` and `skipped` counts equal to the cases. Returns each case's
/// (suite, case, status) with status "pass", "failure" or "skipped".
#[allow(dead_code)]
pub fn junit_cases(xml: &str) -> Result<Vec<(String, String, &'static str)>, String> {
    let body = xml.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").ok_or("no XML declaration")?;
    let mut stack: Vec<String> = Vec::new();
    let mut cases = Vec::new();
    let (mut suite, mut counts) = (String::new(), Vec::<(usize, usize, usize, usize)>::new());
    let mut rest = body;
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..].split('"').next()?.to_owned())
    };
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        if text.contains(['<', '>']) {
            return Err(format!("a bare < or > in text: {text:?}"));
        }
        let close = rest[open..].find('>').ok_or("an unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.contains('<') {
            return Err(format!("a < inside a tag: {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name) {
                return Err(format!("</{name}> closes nothing open"));
            }
            if name == "testsuite" {
                let (t, f, s, n) = counts.pop().ok_or("suite counts")?;
                if (t, f, s)
                    != (
                        n,
                        cases.iter().filter(|c: &&(String, String, &str)| c.0 == suite && c.2 == "failure").count(),
                        cases.iter().filter(|c| c.0 == suite && c.2 == "skipped").count(),
                    )
                {
                    return Err(format!("suite {suite}: counts {t}/{f}/{s} do not match its {n} cases"));
                }
            }
            continue;
        }
        let empty = tag.ends_with('/');
        let name = tag.trim_end_matches('/').split(' ').next().unwrap_or_default().to_owned();
        let parent = stack.last().map(String::as_str);
        let allowed = match name.as_str() {
            "testsuites" => parent.is_none(),
            "testsuite" => parent == Some("testsuites"),
            "testcase" => parent == Some("testsuite"),
            "failure" | "skipped" | "system-out" => parent == Some("testcase"),
            _ => false,
        };
        if !allowed {
            return Err(format!("<{name}> inside {parent:?}"));
        }
        for required in match name.as_str() {
            "testsuites" => &["tests", "failures"][..],
            "testsuite" => &["name", "tests", "failures", "time"][..],
            "testcase" => &["name", "classname", "time"][..],
            "failure" => &["message", "type"][..],
            "skipped" => &["message"][..],
            _ => &[][..],
        } {
            attr(tag, required).ok_or(format!("<{name}> without {required}"))?;
        }
        let num = |n: &str| attr(tag, n).map_or(Ok(0), |v| v.parse::<usize>().map_err(|e| format!("{n}={v}: {e}")));
        match name.as_str() {
            "testsuite" => {
                suite = attr(tag, "name").unwrap_or_default();
                counts.push((num("tests")?, num("failures")?, num("skipped")?, 0));
            }
            "testcase" => {
                cases.push((suite.clone(), attr(tag, "name").unwrap_or_default(), "pass"));
                if let Some(c) = counts.last_mut() {
                    c.3 += 1;
                }
            }
            "failure" | "skipped" => {
                let case = cases.last_mut().ok_or("a result outside a case")?;
                if case.2 != "pass" {
                    return Err(format!("case {} has two results", case.1));
                }
                case.2 = if name == "failure" { "failure" } else { "skipped" };
            }
            _ => {}
        }
        if !empty {
            stack.push(name);
        }
    }
    if !stack.is_empty() || !rest.trim().is_empty() {
        return Err(format!("unclosed at the end: {stack:?}"));
    }
    let root = body.lines().next().unwrap_or_default();
    let total = cases.len();
    let failed = cases.iter().filter(|c| c.2 == "failure").count();
    if attr(root, "tests") != Some(total.to_string()) || attr(root, "failures") != Some(failed.to_string()) {
        return Err(format!("<testsuites> counts do not match {total} cases, {failed} failures: {root}"));
    }
    Ok(cases)
}

/// `s` with each line's measured runs/s (the clock's, never the same twice) blanked.
#[allow(dead_code)]
pub fn unclocked(s: &str) -> String {
    s.lines()
        .map(|l| match l.find(" runs/s") {
            Some(i) => format!("{} N{}", l[..i].trim_end_matches(|c: char| c.is_ascii_digit() || c == ' '), &l[i..]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
