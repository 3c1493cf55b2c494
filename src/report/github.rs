//! GitHub Actions workflow commands (`::error file=F,line=L,col=C,title=T::message`), so a
//! broken expectation or a bad scenario file shows on the line of the pull request's diff.
//! Printed when `GITHUB_ACTIONS=true`, as GitHub sets it in every job.

/// Whether this process runs in a GitHub Actions job.
pub fn enabled() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// An `::error` command. `line` and `col` are 1-based (0: not given).
pub fn error(file: &str, line: usize, col: usize, title: &str, message: &str) -> String {
    let mut props = format!("file={}", property(file));
    if line > 0 {
        props.push_str(&format!(",line={line}"));
    }
    if col > 0 {
        props.push_str(&format!(",col={col}"));
    }
    props.push_str(&format!(",title={}", property(title)));
    format!("::error {props}::{}", data(message))
}

/// A message escaped as GitHub's runner unescapes it.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which end a property.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_cannot_start_another_command() {
        let e = error("a,b:c.toml", 3, 0, "x", "100% broke\n::error::injected");
        assert_eq!(e, "::error file=a%2Cb%3Ac.toml,line=3,title=x::100%25 broke%0A::error::injected");
        assert_eq!(line_of("a\nb\nc", 2), 2);
    }
}
