//! docs/models.md quotes this crate's code; each quoted block must still be the real code.
//!
//! A block whose first line names a file of this crate (`// examples/custom-model/src/x.rs`,
//! or `# ...` for TOML) must appear in that file: its lines in one piece, or in pieces
//! separated by a `// ...` line, each piece in the file as it stands and in that order.

use std::path::Path;

const PREFIX: &str = "examples/custom-model/";

#[test]
fn every_excerpt_in_the_guide_is_the_real_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/models.md")).expect("docs/models.md");
    let mut checked = 0;
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("```") {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let Some(path) = block.first().and_then(|l| l.strip_prefix("// ").or_else(|| l.strip_prefix("# "))) else {
            continue;
        };
        let Some(relative) = path.strip_prefix(PREFIX) else { continue };
        let file = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative))
            .unwrap_or_else(|e| panic!("docs/models.md quotes {path}: {e}"));
        let mut from = 0;
        for piece in block[1..].split(|l| matches!(l.trim(), "// ..." | "# ...")) {
            let piece = piece.join("\n");
            match file[from..].find(&piece) {
                Some(at) => from += at + piece.len(),
                None => panic!("docs/models.md quotes {path}, which no longer reads:\n{piece}"),
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} excerpts found: has the guide's marking changed?");
}
