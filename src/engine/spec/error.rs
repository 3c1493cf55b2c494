//! Scenario errors: every one names the file, line and column, and what was expected.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// The text of a scenario file, kept to turn byte spans into lines and columns.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file's path as the user gave it.
    pub file: Arc<str>,
    /// The whole text.
    pub text: Arc<str>,
}

impl Source {
    /// A source named `file` holding `text`.
    pub fn new(file: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Source { file: file.into(), text: text.into() }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, at)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// An error at `span` saying `message`.
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = self.line_col(span.start);
        let snippet = self.text.lines().nth(line - 1).unwrap_or("").to_owned();
        ScenarioError { file: self.file.to_string(), line, column, message: message.into(), snippet: Some(snippet) }
    }
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A problem with a scenario file, located precisely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending line of the file, when there is one.
    pub snippet: Option<String>,
}

impl ScenarioError {
    /// An error about the file as a whole (it could not be read).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_owned(), line: 1, column: 1, message: message.into(), snippet: None }
    }
}

/// Characters of the offending line shown around the column (the rest is elided).
const SNIPPET_MAX: usize = 120;

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        if let Some(snippet) = &self.snippet {
            let (shown, caret) = window(snippet, self.column);
            let gutter = " ".repeat(self.line.to_string().len());
            write!(f, "\n{gutter} |\n{} | {shown}\n{gutter} | {}^", self.line, " ".repeat(caret))?;
        }
        Ok(())
    }
}

/// The part of `line` to show for a caret at 1-based character `column`, with control
/// characters made visible, and the caret's offset in it. Any length is fine: a long line is
/// cut to a window around the column.
pub(crate) fn window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(SNIPPET_MAX / 2);
    let end = (start + SNIPPET_MAX).min(chars.len());
    let mut shown = String::new();
    let mut caret = 0;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    for (i, c) in chars[start..end].iter().enumerate() {
        let c = if c.is_control() && *c != '\t' { '\u{fffd}' } else { *c };
        shown.push(c);
        if start + i < at {
            caret += 1;
        }
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

impl std::error::Error for ScenarioError {}
