//! Text for a terminal: user strings (scenario, variant and actor names, `about` text) never
//! carry control characters to it. An escape sequence in a scenario name (OSC, CSI) could
//! retitle the window, rewrite earlier lines or hide text; each such character is shown as
//! a visible `\u{..}` escape instead.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, and the Unicode
/// line and paragraph separators and bidirectional overrides that reorder what is shown.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as one line: every control character (newlines and tabs too) made a visible escape.
pub fn clean(s: &str) -> Cow<'_, str> {
    escape(s, |_| false)
}

/// `s` as a block of lines: newlines and tabs kept, every other control character made a
/// visible escape.
pub fn clean_block(s: &str) -> Cow<'_, str> {
    escape(s, |c| c == '\n' || c == '\t')
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(clean("plain name"), "plain name");
        assert_eq!(clean("a\x1b]0;owned\x07b"), "a\\u{1b}]0;owned\\u{7}b");
        assert_eq!(clean("x\ny"), "x\\u{a}y");
        assert_eq!(clean_block("x\ny\x1b[2J"), "x\ny\\u{1b}[2J");
        assert_eq!(clean("\u{9b}31m\u{202e}"), "\\u{9b}31m\\u{202e}");
    }
}
