//! File names derived from scenario and variant names: a fixed safe alphabet, never a path.
//!
//! A scenario may be named `../../x` or `$(touch PWNED)`; a file written for it must still
//! land inside the folder asked for, under a name any shell and file system take. Names made
//! only of safe characters are kept as they are; any other gets its unsafe characters replaced
//! and a short hash of the original appended, so two different names never share a file.

/// A file stem for `name`: `[A-Za-z0-9._-]` only, not starting with `.`, at most 120
/// characters, with `-` and 8 hex digits of a hash of `name` appended when anything changed.
pub fn safe_stem(name: &str) -> String {
    const MAX: usize = 120;
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' { c } else { '_' })
        .collect();
    // No `..` components, no hidden files.
    while out.contains("..") {
        out = out.replace("..", "_.");
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    let changed = out != name || out.is_empty() || out.len() > MAX;
    out.truncate(MAX);
    if changed {
        out.push_str(&format!("-{:08x}", fnv(name) as u32));
    }
    out
}

/// `dir/<safe_stem(name)>.<ext>`, checked to be a plain file name directly inside `dir` (a
/// second line of defence behind [`safe_stem`]). The original names belong inside the file.
pub fn file_in(dir: &std::path::Path, name: &str, ext: &str) -> Result<std::path::PathBuf, String> {
    let file = format!("{}.{ext}", safe_stem(name));
    let mut parts = std::path::Path::new(&file).components();
    match (parts.next(), parts.next()) {
        (Some(std::path::Component::Normal(_)), None) => Ok(dir.join(file)),
        _ => Err(format!("refusing to write {file:?}: not a plain file name inside {}", dir.display())),
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::safe_stem;

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(safe_stem("dispose_during_ice.flag_callback.seed7"), "dispose_during_ice.flag_callback.seed7");
    }

    #[test]
    fn hostile_names_stay_inside_the_folder_and_differ() {
        for name in ["../../x", "/etc/passwd", "$(touch PWNED)", "a/b", ".hidden", "", "a\nb", "..", "x\\..\\y"] {
            let s = safe_stem(name);
            assert!(!s.is_empty() && !s.starts_with('.'), "{name:?} -> {s:?}");
            assert!(!s.contains('/') && !s.contains('\\') && !s.contains(".."), "{name:?} -> {s:?}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{name:?} -> {s:?}");
        }
        assert_ne!(safe_stem("a/b"), safe_stem("a_b"));
        assert_ne!(safe_stem("a/b"), safe_stem("a:b"));
        assert!(safe_stem(&"x".repeat(10_000)).len() <= 129);
        let dir = std::path::Path::new("out");
        for name in ["../../x", "/etc/passwd", "a/../../b", "..", ".", "", "$(touch PWNED)"] {
            let p = super::file_in(dir, name, "json").expect("a name");
            assert_eq!(p.parent(), Some(dir), "{name:?} -> {p:?}");
        }
    }
}
