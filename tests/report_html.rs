//! The HTML report end to end: rendered in headless Chromium (Debian's `chromium`), the
//! violation's element is present, has a size, is not hidden and is the topmost thing at its
//! own centre once scrolled to. The report itself fetches nothing and runs no script.
//!
//! Chromium is required: without it these tests fail and say how to install it (`.ci/run`
//! installs it).

mod report_support;

use racelab::engine::trace::EventKind;
use racelab::engine::{Sim, Verdict};
use racelab::report::html;
use racelab::report::view::View;
use report_support::{first_failure, scenario, synthetic};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod support;
use support::temp_dir;

fn chromium() -> PathBuf {
    let candidates = [std::env::var("RACELAB_CHROMIUM").unwrap_or_default(), "/usr/bin/chromium".into()];
    for c in candidates.iter().filter(|c| !c.is_empty()) {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    if let Ok(o) = Command::new("sh").args(["-c", "command -v chromium"]).output()
        && o.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    }
    panic!(
        "the HTML report test needs Debian's chromium at /usr/bin/chromium (or RACELAB_CHROMIUM=path); \
         install it with: command -v chromium || (apt-get update && apt-get install -y chromium)"
    );
}

/// Run headless Chromium on `page` with `extra` arguments; its standard output.
fn run_chromium(dir: &Path, page: &Path, extra: &[&str]) -> String {
    let profile = dir.join("profile");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The report with a probe script appended that scrolls to the violation and writes what it
/// finds into `<pre id="probe">`; the report itself has no script.
fn probe(report: &str) -> String {
    const SCRIPT: &str = r#"<script>
(function () {
  var t0 = performance.now();
  var el = document.getElementById('violation');
  var out = [];
  if (!el) { out.push('missing'); } else {
    el.scrollIntoView({block: 'center'});
    var r = el.getBoundingClientRect();
    var st = getComputedStyle(el);
    var hit = document.elementFromPoint(r.left + Math.min(r.width, 400) / 2, r.top + r.height / 2);
    out.push('present');
    out.push('size=' + Math.round(r.width) + 'x' + Math.round(r.height));
    out.push('inview=' + (r.top >= 0 && r.bottom <= innerHeight));
    out.push('shown=' + (st.display !== 'none' && st.visibility !== 'hidden' && st.opacity !== '0'));
    out.push('topmost=' + (hit !== null && el.contains(hit)));
  }
  out.push('elements=' + document.getElementsByTagName('*').length);
  out.push('layout_ms=' + Math.round(performance.now() - t0));
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = out.join(' ');
  document.body.appendChild(pre);
})();
</script>
"#;
    report.replacen("</body>", &format!("{SCRIPT}</body>"), 1)
}

fn probe_result(dom: &str) -> String {
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran and wrote its result") + 16;
    let end = dom[start..].find("</pre>").expect("probe end") + start;
    dom[start..end].to_owned()
}

fn check_self_contained(report: &str) {
    assert!(!report.contains("<script"), "the report runs no script");
    for needle in ["src=", "@import", "url(http", "<link", "<iframe", "<img"] {
        assert!(!report.contains(needle), "the report fetches nothing, but has `{needle}`");
    }
    // The only absolute URL is the SVG namespace, which is a name, not a fetch.
    assert_eq!(report.matches("http").count(), report.matches("http://www.w3.org/2000/svg").count());
}

fn assert_visible(result: &str) {
    for needle in ["present", "inview=true", "shown=true", "topmost=true"] {
        assert!(result.split(' ').any(|w| w == needle), "violation element not `{needle}`: {result}");
    }
    let size = result.split(' ').find_map(|w| w.strip_prefix("size=")).expect("size");
    let (w, h) = size.split_once('x').expect("WxH");
    assert!(w.parse::<u32>().expect("w") > 100 && h.parse::<u32>().expect("h") > 10, "{result}");
}

fn report_of(sim: &Sim, out: &racelab::engine::Outcome) -> String {
    let view = View::new(sim.trace().events(), sim.names(), out).reproduce(format!(
        "racelab run scenarios/dispose_during_ice.toml --variant {} --seed {}",
        out.variant, out.seed
    ));
    html::render(&view)
}

#[test]
fn dispose_during_ice_report_shows_the_violation_in_chromium() {
    let s = scenario("dispose_during_ice");
    let (sim, out) = first_failure(&s, "flag_callback", "no_candidate_for_removed_connection", 0..100);
    let report = report_of(&sim, &out);
    check_self_contained(&report);
    for needle in [
        "<header id=\"header\">",
        "dispose_during_ice",
        "flag_callback",
        &format!("<code>{}</code>", out.trace_hash),
        "racelab run scenarios/dispose_during_ice.toml --variant flag_callback --seed",
        "violates no_candidate_for_removed_connection",
        "<g class=\"violation\" id=\"violation\">",
    ] {
        assert!(report.contains(needle), "report lacks {needle}");
    }
    // Hovering an arrow shows its message: every envelope delivered up to the violation (where
    // the report ends) is an arrow carrying a <title>.
    let Verdict::Violation { tick, .. } = &out.verdict else { panic!("a violation: {:?}", out.verdict) };
    let delivered = sim.trace().events().iter().filter(|e| e.kind == EventKind::Deliver && e.tick <= *tick).count();
    let arrows = report.matches("<g class=\"e\"><title>").count();
    assert!(arrows >= delivered, "{arrows} arrows with titles for {delivered} deliveries");

    let dir = temp_dir("ice");
    let page = dir.join("report.html");
    std::fs::write(&page, probe(&report)).expect("writes");
    let dom = run_chromium(&dir, &page, &["--dump-dom"]);
    let result = probe_result(&dom);
    assert_visible(&result);

    // And it paints: a screenshot of the report (without the probe) is a real picture.
    let plain = dir.join("plain.html");
    std::fs::write(&plain, &report).expect("writes");
    let shot = dir.join("shot.png");
    run_chromium(&dir, &plain, &[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "screenshot of {} bytes", png.len());
}

#[test]
fn a_ten_thousand_event_report_opens_and_shows_the_violation() {
    let (trace, names, out) = synthetic(10_000);
    assert_eq!(trace.events().len(), 10_000);
    let report = html::render(&View::new(trace.events(), &names, &out));
    check_self_contained(&report);
    let dir = temp_dir("big");
    let page = dir.join("report.html");
    std::fs::write(&page, probe(&report)).expect("writes");
    let started = Instant::now();
    let dom = run_chromium(&dir, &page, &["--dump-dom"]);
    let result = probe_result(&dom);
    // Informational only (speed is measured, never asserted): how long Chromium took.
    eprintln!(
        "10,000 events: {} KiB of HTML, chromium load+layout+dump {:?}: {result}",
        report.len() / 1024,
        started.elapsed()
    );
    assert_visible(&result);
}

#[test]
fn a_run_beyond_the_cap_keeps_its_end_and_says_so() {
    let n = html::MAX_EVENTS + 5_000;
    let (trace, names, out) = synthetic(n);
    let report = html::render(&View::new(trace.events(), &names, &out));
    assert!(report.contains(&format!("the last {} events; 5000 earlier ones are left out", html::MAX_EVENTS)));
    assert!(report.contains("<g class=\"violation\" id=\"violation\">"), "the end, where the violation is, is kept");
    assert_eq!(report.matches("<g class=\"violation\" id=\"violation\">").count(), 1);
}
