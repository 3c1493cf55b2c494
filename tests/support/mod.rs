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
