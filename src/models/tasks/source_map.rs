//! Where each byte of a TOML string value stands in the file.
//!
//! Programs and checks are TOML strings; an error inside one must point at the file's line
//! and column. A string's span covers its quotes; the text inside differs from the value
//! where TOML trims the first newline of a multi-line string or decodes escapes, so this
//! walks the raw text the way TOML decodes it and keeps one file offset per value byte.

use std::ops::Range;

/// The map from offsets in a string value to offsets in the file.
#[derive(Clone, Debug)]
pub struct SourceMap {
    /// File offset of each byte of the value, plus one entry for its end.
    offsets: Vec<usize>,
    /// Where the whole value stands (used when decoding did not reproduce the value).
    span: Range<usize>,
}

impl SourceMap {
    /// The map for the string `value` whose TOML token spans `span` of `file`.
    pub fn new(file: &str, span: Range<usize>, value: &str) -> SourceMap {
        let offsets = file
            .get(span.clone())
            .and_then(|raw| decode(raw, span.start))
            .filter(|(text, _)| text == value)
            .map(|(_, offsets)| offsets)
            .unwrap_or_default();
        SourceMap { offsets, span }
    }

    /// A map for text that is not in the file (tests, generated programs): every offset
    /// maps to `at`.
    pub fn detached(at: usize) -> SourceMap {
        SourceMap { offsets: Vec::new(), span: at..at }
    }

    /// The file range of `range` within the value.
    pub fn map(&self, range: Range<usize>) -> Range<usize> {
        if self.offsets.is_empty() {
            return self.span.clone();
        }
        let at = |i: usize| self.offsets[i.min(self.offsets.len() - 1)];
        at(range.start)..at(range.end.max(range.start))
    }
}

/// Decode a raw TOML string token starting at file offset `base` into its value and the
/// file offset of every value byte. `None` for anything unexpected (the caller falls back).
fn decode(raw: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let (delim, multi, literal) = if raw.starts_with("\"\"\"") {
        ("\"\"\"", true, false)
    } else if raw.starts_with("'''") {
        ("'''", true, true)
    } else if raw.starts_with('"') {
        ("\"", false, false)
    } else if raw.starts_with('\'') {
        ("'", false, true)
    } else {
        return None;
    };
    if raw.len() < 2 * delim.len() || !raw.ends_with(delim) {
        return None;
    }
    let inner = &raw[delim.len()..raw.len() - delim.len()];
    let mut pos = 0;
    if multi {
        if inner.starts_with("\r\n") {
            pos = 2;
        } else if inner.starts_with('\n') {
            pos = 1;
        }
    }
    let start = base + delim.len();
    let bytes = inner.as_bytes();
    let mut text = String::with_capacity(inner.len());
    let mut offsets = Vec::with_capacity(inner.len() + 1);
    while pos < bytes.len() {
        let ch = inner[pos..].chars().next()?;
        if ch == '\\' && !literal {
            let next = inner[pos + 1..].chars().next()?;
            let simple = match next {
                'b' => Some('\u{8}'),
                't' => Some('\t'),
                'n' => Some('\n'),
                'f' => Some('\u{c}'),
                'r' => Some('\r'),
                'e' => Some('\u{1b}'),
                '"' => Some('"'),
                '\\' => Some('\\'),
                _ => None,
            };
            if let Some(c) = simple {
                push(&mut text, &mut offsets, c, start + pos);
                pos += 2;
            } else if next == 'u' || next == 'U' || next == 'x' {
                let len = match next {
                    'u' => 4,
                    'U' => 8,
                    _ => 2,
                };
                let hex = inner.get(pos + 2..pos + 2 + len)?;
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                push(&mut text, &mut offsets, c, start + pos);
                pos += 2 + len;
            } else if multi && next.is_whitespace() {
                // A line-ending backslash trims the newline and the whitespace after it.
                pos += 1;
                while let Some(c) = inner[pos..].chars().next() {
                    if !c.is_whitespace() {
                        break;
                    }
                    pos += c.len_utf8();
                }
            } else {
                return None;
            }
        } else {
            push(&mut text, &mut offsets, ch, start + pos);
            pos += ch.len_utf8();
        }
    }
    offsets.push(start + pos);
    Some((text, offsets))
}

fn push(text: &mut String, offsets: &mut Vec<usize>, c: char, at: usize) {
    text.push(c);
    for _ in 0..c.len_utf8() {
        offsets.push(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_basic_string_skips_the_first_newline() {
        let file = "p = \"\"\"\nlock a\n  read x -> y\n\"\"\"\n";
        let start = file.find("\"\"\"").unwrap_or(0);
        let end = file.rfind("\"\"\"").unwrap_or(0) + 3;
        let value = "lock a\n  read x -> y\n";
        let map = SourceMap::new(file, start..end, value);
        let at = value.find("read").unwrap_or(0);
        let r = map.map(at..at + 4);
        assert_eq!(&file[r], "read");
    }

    #[test]
    fn escapes_are_mapped_past() {
        let file = r#"p = "a\tb c""#;
        let value = "a\tb c";
        let map = SourceMap::new(file, 4..file.len(), value);
        let r = map.map(4..5);
        assert_eq!(&file[r], "c");
    }

    #[test]
    fn a_mismatch_falls_back_to_the_whole_value() {
        let map = SourceMap::new("p = 'abc'", 4..9, "xyz");
        assert_eq!(map.map(1..2), 4..9);
    }
}
