//! One scenario full of hostile strings (escape sequences, newlines, Mermaid directives, HTML,
//! shell substitutions, path traversal) through every format: the text timeline, JSON Lines,
//! Mermaid (rendered by Mermaid), HTML (opened in Chromium), saved file names and the printed
//! commands (run by a shell).

mod support;

use racelab::engine::{Registry, Sim, TraceLevel};
use racelab::report::view::View;
use racelab::report::{html, jsonl, mermaid, timeline};
use racelab::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::temp_dir;

/// A name with a newline, an OSC title sequence, a CSI clear, a Mermaid directive and a
/// statement, HTML and a shell substitution.
const NAME: &str = r#"x\n%%{init: {\"theme\":\"dark\"}}%%\nparticipant INJECTED\u001b]0;owned\u0007\u001b[2J <script>alert(1)</script> $(touch PWNED) ../../x"#;
/// A peer (an actor name: no spaces allowed there) with the same.
const PEER: &str = r#"P1\u001b]0;owned\u0007<b>$(touch_PWNED)%%{init:{'theme':'dark'}}%%;#&"#;

fn hostile() -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/server_switch.toml")).expect("reads");
    let text = text.replacen("name = \"server_switch\"", &format!("name = \"{NAME}\""), 1);
    let text = text.replacen("about = \"\"\"\n", "about = \"\"\"\n\\u001b]0;about\\u0007\\u001b[31m%%{init}%%\n", 1);
    text.replace("peer = \"P1\"", &format!("peer = \"{PEER}\""))
}

fn no_controls(what: &str, s: &str) {
    let bad: Vec<char> = s.chars().filter(|c| c.is_control() && *c != '\n' && *c != '\t').collect();
    assert!(bad.is_empty(), "{what} carries control characters {bad:?}");
}

/// The hostile scenario and a failing run of it, traced in full.
fn failing_run() -> (Scenario, Sim, racelab::engine::Outcome) {
    let s = Scenario::parse(&Registry::builtin(), "hostile.toml", &hostile()).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&s, "flag_callback").unwrap_or_else(|e| panic!("{e}"));
    let seed = (0..200).find(|&k| !sim.seed(k).verdict.is_pass()).expect("a failing seed");
    sim.trace_level(TraceLevel::Full);
    let out = sim.seed(seed);
    (s, sim, out)
}

#[test]
fn text_and_json_lines_keep_hostile_strings_inert() {
    let (s, sim, out) = failing_run();
    no_controls("the scenario name", &s.name);
    no_controls("the about text", &s.about);
    let text = timeline::render(sim.trace(), sim.names(), &out);
    no_controls("the timeline", &text);
    assert!(text.contains("P1\\u{1b}]0;owned\\u{7}"), "the escape is shown, not sent: {text}");
    let lines = jsonl::render(sim.trace(), sim.names(), &out);
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.is_object());
    }
    no_controls("JSON Lines", &lines);
    // JSON keeps the actor's real name, escaped by JSON.
    assert!(lines.contains("\\u001b]0;owned\\u0007<b>"), "{lines}");
}

#[test]
fn mermaid_and_html_render_hostile_strings_as_text() {
    let (_, sim, out) = failing_run();
    let view = View::new(sim.trace().events(), sim.names(), &out);
    let d = mermaid::render(&view);
    for line in d.lines().skip(1) {
        let t = line.trim_start();
        assert!(
            ["%% racelab explain", "participant A", "Note over A", "A", "rect ", "end"]
                .iter()
                .any(|p| t.starts_with(p)),
            "a line Mermaid would read as something else: {line:?}"
        );
        assert!(!t.starts_with("participant INJECTED"), "{line:?}");
    }
    assert!(!d.contains("%%{"), "no directive: {d}");
    assert_eq!(d.matches("%%").count(), 1, "only the header comment: {d}");
    no_controls("the diagram", &d);

    let page = html::render(&view);
    assert!(!page.contains("<script"), "no script in the report");
    assert!(!page.contains("<b>"), "no markup from names");
    assert!(page.contains("&lt;b&gt;"), "names shown as text");
    no_controls("the report", &page);

    let dir = temp_dir("render");
    // HTML in Chromium: the DOM has no element a name brought in.
    let file = dir.join("report.html");
    std::fs::write(&file, &page).expect("write");
    if let Some(chromium) = chromium() {
        let o = Command::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--dump-dom"])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("file://{}", file.display()))
            .output()
            .expect("chromium starts");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let dom = String::from_utf8_lossy(&o.stdout);
        assert!(dom.contains("</html>"), "the page loaded");
        assert!(!dom.contains("<script") && !dom.contains("<b>"), "no element came from a name");
    } else {
        panic!("this test needs Debian's chromium at /usr/bin/chromium (or RACELAB_CHROMIUM=path)");
    }
    // Mermaid itself: parses and renders, with exactly the participants racelab declared.
    let mmdc = std::env::var("RACELAB_MMDC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/mermaid/node_modules/.bin/mmdc"));
    assert!(mmdc.exists(), "this test needs the Mermaid CLI: (cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci)");
    let config = serde_json::json!({
        "executablePath": chromium().expect("chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    std::fs::write(dir.join("puppeteer.json"), config.to_string()).expect("write");
    std::fs::write(dir.join("d.mmd"), &d).expect("write");
    let o = Command::new(&mmdc)
        .current_dir(&dir)
        .args(["-p", "puppeteer.json", "-i", "d.mmd", "-o", "d.svg"])
        .output()
        .expect("mmdc runs");
    assert!(o.status.success(), "Mermaid rejected it: {}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(dir.join("d.svg")).expect("svg");
    assert!(!svg.contains("INJECTED"), "no participant came from the name");
    assert!(svg.contains("owned"), "the peer's name is drawn as text");
    // The default theme stayed: a `%%{init}%%` in a name did not switch it to dark.
    assert!(!svg.contains("\"theme\":\"dark\""));
}

fn chromium() -> Option<PathBuf> {
    [std::env::var("RACELAB_CHROMIUM").unwrap_or_default(), "/usr/bin/chromium".to_owned()]
        .into_iter()
        .find(|c| !c.is_empty() && Path::new(c).exists())
        .map(PathBuf::from)
}

#[test]
fn saved_names_and_printed_commands_are_safe_in_a_shell() {
    let dir = temp_dir("shell");
    let file = dir.join("$(touch PWNED)'x.toml");
    std::fs::write(&file, hostile()).expect("write");
    let out = dir.join("saved");
    let o = Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args([
            "run",
            file.to_str().expect("utf8"),
            "--variant",
            "flag_callback",
            "--seeds",
            "0..60",
            "--save-failures",
        ])
        .arg(&out)
        .current_dir(&dir)
        .output()
        .expect("runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.code().is_some_and(|c| c <= 1), "{stdout}\n{stderr}");
    no_controls("run's output", &stdout);
    no_controls("run's messages", &stderr);
    let saved: Vec<PathBuf> = std::fs::read_dir(&out).expect("saved").map(|e| e.expect("entry").path()).collect();
    assert!(!saved.is_empty());
    for p in &saved {
        let name = p.file_name().expect("name").to_str().expect("utf8");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{name}");
        assert_eq!(p.parent(), Some(out.as_path()));
    }
    // Every printed command, pasted into a shell, runs racelab on the same file: no
    // substitution runs, and the command works.
    let bin = Path::new(env!("CARGO_BIN_EXE_racelab")).parent().expect("bin dir").to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let commands: Vec<&str> =
        stdout.lines().filter_map(|l| l.split_once("racelab run ").map(|(_, rest)| rest)).collect();
    assert!(!commands.is_empty(), "{stdout}");
    for rest in commands {
        let o = Command::new("sh")
            .args(["-c", &format!("racelab run {rest} > /dev/null")])
            .env("PATH", &path)
            .current_dir(&dir)
            .output()
            .expect("sh runs");
        assert!(o.status.code().is_some_and(|c| c <= 1), "{rest}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let replayed = Command::new("sh")
        .args([
            "-c",
            &format!("racelab replay {} > /dev/null", racelab::report::shell::quote(saved[0].to_str().expect("utf8"))),
        ])
        .env("PATH", &path)
        .current_dir(&dir)
        .output()
        .expect("sh runs");
    assert_eq!(replayed.status.code(), Some(0), "{}", String::from_utf8_lossy(&replayed.stderr));
    assert!(!dir.join("PWNED").exists(), "a printed command ran a substitution");
}
