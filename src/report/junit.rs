//! JUnit XML, the report format every CI system reads: one `<testsuite>` per scenario file,
//! one `<testcase>` per variant, a `<failure>` when the variant's expectation did not hold.

use std::fmt::Write as _;

/// One variant's result.
#[derive(Clone, Debug)]
pub struct Case {
    /// The scenario's name (the suite).
    pub scenario: String,
    /// The scenario file as given (`file` attribute, for CI systems that link to it).
    pub file: String,
    /// The variant (the test case).
    pub variant: String,
    /// Runs made.
    pub runs: u64,
    /// Why the expectation did not hold, with the command that shows it; `None` if it held.
    pub failure: Option<String>,
    /// Why the variant was not judged at all (a sweep stopped before reaching it); such a
    /// case is reported as skipped, neither passed nor failed.
    pub skipped: Option<String>,
    /// Seconds spent.
    pub seconds: f64,
}

/// A failing case's message: what did not hold, then the command that shows it.
pub fn failure_message(scenario: &str, variant: &str, why: &str, see: Option<String>) -> String {
    match see {
        Some(cmd) => format!("{scenario} / {variant}: {why}\nsee it: {cmd}"),
        None => format!("{scenario} / {variant}: {why}"),
    }
}

/// `s` escaped for XML text and attribute values: HTML's escaping (which shows control
/// characters as `\u{..}`) is valid XML too, once the two non-characters XML forbids are gone.
pub fn escape(s: &str) -> String {
    super::html::esc(&s.replace(['\u{FFFE}', '\u{FFFF}'], ""))
}

/// ` skipped="n"` when some cases were skipped; nothing otherwise (reports without skipped
/// cases read as they always did).
fn skipped_attr(n: usize) -> String {
    if n == 0 { String::new() } else { format!(" skipped=\"{n}\"") }
}

/// The whole report for `cases`, suites in the order their scenarios first appear.
pub fn render(cases: &[Case]) -> String {
    let mut suites: Vec<(&str, &str, Vec<&Case>)> = Vec::new();
    for c in cases {
        match suites.iter_mut().find(|(s, f, _)| *s == c.scenario && *f == c.file) {
            Some(s) => s.2.push(c),
            None => suites.push((&c.scenario, &c.file, vec![c])),
        }
    }
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.failure.is_none() && c.skipped.is_some()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"racelab\" tests=\"{}\" failures=\"{failures}\"{}>",
        cases.len(),
        skipped_attr(skipped)
    );
    for (scenario, file, cases) in suites {
        let failed = cases.iter().filter(|c| c.failure.is_some()).count();
        let skipped = cases.iter().filter(|c| c.failure.is_none() && c.skipped.is_some()).count();
        let time: f64 = cases.iter().map(|c| c.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\"{} time=\"{time:.3}\">",
            escape(scenario),
            cases.len(),
            skipped_attr(skipped)
        );
        for c in cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3}\"",
                escape(&c.variant),
                escape(scenario),
                escape(file),
                c.seconds
            );
            match &c.failure {
                None if c.skipped.is_some() => {
                    let why = c.skipped.as_deref().unwrap_or_default();
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", escape(why));
                }
                None => {
                    let _ =
                        writeln!(out, ">\n      <system-out>{} runs as expected</system-out>\n    </testcase>", c.runs);
                }
                Some(why) => {
                    let first = why.lines().next().unwrap_or_default();
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                        escape(first),
                        escape(why)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_and_controls_shown() {
        let c = Case {
            scenario: "a<b>&\"c'".into(),
            file: "x.toml".into(),
            variant: "v\u{1b}[31m".into(),
            runs: 3,
            failure: Some("broke <x>\nsee it: racelab run 'x.toml'".into()),
            skipped: None,
            seconds: 0.5,
        };
        let xml = render(&[c]);
        assert!(xml.contains("name=\"a&lt;b&gt;&amp;&quot;c&#39;\""), "{xml}");
        assert!(xml.contains("name=\"v\\u{1b}[31m\""), "{xml}");
        assert!(xml.contains("message=\"broke &lt;x&gt;\""), "{xml}");
        assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
        assert!(!xml.contains('\u{1b}'));
        assert!(!xml.contains("skipped"), "no skipped attribute when nothing was skipped: {xml}");
    }

    #[test]
    fn a_case_never_run_is_skipped_not_passed() {
        let c = Case {
            scenario: "s".into(),
            file: "s.toml".into(),
            variant: "v".into(),
            runs: 0,
            failure: None,
            skipped: Some("not run <stopped>".into()),
            seconds: 0.0,
        };
        let xml = render(&[c]);
        assert!(xml.contains("<testsuites name=\"racelab\" tests=\"1\" failures=\"0\" skipped=\"1\">"), "{xml}");
        assert!(xml.contains("tests=\"1\" failures=\"0\" skipped=\"1\" time="), "{xml}");
        assert!(xml.contains("<skipped message=\"not run &lt;stopped&gt;\"/>"), "{xml}");
        assert!(!xml.contains("runs as expected"), "{xml}");
    }
}
