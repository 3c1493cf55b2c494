//! A scenario error for a person: its `file:line:col: message` line (what GitHub's problem
//! matchers, editors and the tests look for), then the offending line of the file with a
//! caret under the column, drawn by `annotate-snippets` and coloured on a colour terminal.
//! Without colour it reads exactly as the error's `Display` (but for the trailing space that
//! leaves after an empty line's gutter); a long line is cut to a window
//! around the column first, so any input renders.

use super::style::{self, Stream};
use crate::engine::spec::error::window;
use crate::scenario::ScenarioError;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// `e` as the lines to print on standard error, `error: ` first, coloured when standard
/// error is.
pub fn render(e: &ScenarioError) -> String {
    render_with(e, style::enabled(Stream::Err))
}

/// [`render`], coloured or not.
pub fn render_with(e: &ScenarioError, color: bool) -> String {
    let s = style::ERROR;
    let error = if color { format!("{s}error:{s:#}") } else { "error:".to_owned() };
    let head = format!("{error} {}:{}:{}: {}", e.file, e.line, e.column, e.message);
    let Some(line) = &e.snippet else { return head };
    let (shown, caret) = window(line, e.column);
    // The caret's byte span in the shown text: one character, or empty past the line's end.
    let at = shown.char_indices().nth(caret).map_or(shown.len(), |(i, _)| i);
    let end = shown[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let snippet = Snippet::source(shown.as_str())
        .line_start(e.line)
        .fold(false)
        .annotation(AnnotationKind::Primary.span(at..end));
    // The title is printed above (it must stay one line, as written); the group has none.
    let group = Group::with_level(Level::ERROR).element(snippet);
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    // Wide enough that annotate-snippets never cuts the window again.
    let body = renderer.term_width(usize::from(u16::MAX)).render(&[group]);
    format!("{head}\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: &str, column: usize) -> ScenarioError {
        ScenarioError {
            file: "x.toml".into(),
            line: 12,
            column,
            message: "expected a number".into(),
            snippet: Some(line.into()),
        }
    }

    #[test]
    fn without_colour_it_reads_as_the_error_itself() {
        let long = format!("{}seeds = \"many\"{}", "a".repeat(500), "b".repeat(500));
        let cases = [
            error("seeds = \"many\"", 9),
            error("seeds = \"many\"", 1),
            error("seeds = \"many\"", 15),
            error("seeds = \"many\"", 400),
            error("", 1),
            error(&long, 509),
            error(&long, 1),
            error(&long, 1010),
            error("a\u{1b}[31m = \u{0}", 4),
            error("ŝeeds = \"ß\"", 9),
            ScenarioError::whole_file("y.toml", "cannot read the file: No such file or directory"),
        ];
        let trimmed = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
        for e in cases {
            let (ours, display) = (render_with(&e, false), format!("error: {e}"));
            // Byte for byte, but for the space `Display` leaves after an empty line's gutter.
            if e.snippet.as_deref() == Some("") {
                assert_eq!(trimmed(&ours), trimmed(&display), "{e:?}");
            } else {
                assert_eq!(ours, display, "{e:?}");
            }
        }
    }

    #[test]
    fn with_colour_the_first_line_keeps_its_location() {
        let e = error("seeds = \"many\"", 9);
        let out = render_with(&e, true);
        assert!(out.contains('\u{1b}'), "{out:?}");
        let plain = anstream::adapter::strip_str(&out).to_string();
        assert_eq!(plain, format!("error: {e}"));
        assert!(plain.starts_with("error: x.toml:12:9: expected a number\n"), "{plain}");
    }

    #[test]
    fn any_line_and_column_render() {
        let lines = ["", "\t\tx", "日本語のキー = 1", "a\u{0301}b", "\u{202e}evil", "…", "\r"];
        for line in lines {
            for column in [0, 1, 2, 3, 7, 100, usize::MAX] {
                let out = render_with(&error(line, column), true);
                assert!(out.starts_with("\u{1b}["), "{out:?}");
                let _ = render_with(&error(line, column), false);
            }
        }
    }
}
