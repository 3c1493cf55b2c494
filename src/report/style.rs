//! Colour for a person at a terminal, and only there: PASS and FAIL, "as expected" and
//! "UNEXPECTED", and the `error:` headers. Whether a stream is coloured follows the global
//! `--color` choice, then `NO_COLOR`, `CLICOLOR_FORCE` and `CLICOLOR`, then whether the
//! stream is a terminal (as clap, cargo and other Rust tools decide it, through `anstream`).
//! When colour is off, nothing here adds a byte: piped output reads exactly as before.

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
use std::sync::OnceLock;

/// Which output stream a piece of text is printed on (each decides its colour on its own:
/// `racelab run ... | less` keeps colour on the errors of a terminal's stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// A passing result.
pub const PASS: Style = AnsiColor::Green.on_default();
/// A failing result.
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
/// An expectation met.
pub const EXPECTED: Style = AnsiColor::Green.on_default();
/// An expectation not met.
pub const UNEXPECTED: Style = AnsiColor::Red.on_default().bold();
/// The `error:` header of a message.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The `warning:` header of a message.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// Set the `--color` choice for the whole process (before anything is printed).
pub fn set_choice(choice: ColorChoice) {
    choice.write_global();
}

/// Whether `stream` is coloured (decided once per process and stream).
pub fn enabled(stream: Stream) -> bool {
    static OUT: OnceLock<bool> = OnceLock::new();
    static ERR: OnceLock<bool> = OnceLock::new();
    match stream {
        Stream::Out => *OUT.get_or_init(|| anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never),
        Stream::Err => *ERR.get_or_init(|| anstream::AutoStream::choice(&std::io::stderr()) != ColorChoice::Never),
    }
}

/// `text` in `style` when `stream` is coloured; `text` itself otherwise.
pub fn paint(stream: Stream, style: Style, text: &str) -> String {
    if enabled(stream) { format!("{style}{text}{style:#}") } else { text.to_owned() }
}

/// `error: `, red and bold on a coloured standard error.
pub fn error_header() -> String {
    paint(Stream::Err, ERROR, "error:") + " "
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn painted_text_is_the_text_between_a_style_and_its_reset() {
        let s = format!("{FAIL}FAIL 3/60{FAIL:#}");
        assert!(s.starts_with("\u{1b}[") && s.contains("FAIL 3/60") && s.ends_with("\u{1b}[0m"), "{s:?}");
    }
}
