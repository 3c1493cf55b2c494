//! Commands printed for people to paste: every argument quoted for a POSIX shell when it
//! holds anything but characters a shell leaves alone.

/// `s` as a shell word: as it is when it is only `[A-Za-z0-9/._+:@-]`, else single-quoted.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
