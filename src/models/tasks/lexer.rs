//! Tokens of the task language, each with its byte range in the program text.

use std::ops::Range;

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name or keyword.
    Ident(String),
    /// A non-negative integer literal.
    Int(i64),
    /// A string literal, decoded.
    Str(String),
    /// Punctuation or an operator.
    Sym(&'static str),
    /// The end of a statement: a newline or `;`.
    End,
    /// The end of the program.
    Eof,
}

impl Tok {
    /// How an error message names the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(i) => format!("`{i}`"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::End => "the end of the line".into(),
            Tok::Eof => "the end of the program".into(),
        }
    }
}

/// A token and where it stands.
#[derive(Clone, Debug)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its byte range in the program text.
    pub span: Range<usize>,
}

/// A located problem in a program text.
pub type SyntaxError = (Range<usize>, String);

const SYMBOLS: &[&str] =
    &["->", "==", "!=", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ",", "."];

/// Split `text` into tokens. Comments run from `#` to the end of the line.
pub fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' | b';' => {
                out.push(Token { tok: Tok::End, span: i..i + 1 });
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let n = text[start..i]
                    .parse::<i64>()
                    .map_err(|_| (start..i, format!("the number {} is too large", &text[start..i])))?;
                out.push(Token { tok: Tok::Int(n), span: start..i });
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident(text[start..i].to_owned()), span: start..i });
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(ch) = text[i..].chars().next() else {
                        return Err((start..i, "this string has no closing `\"`".into()));
                    };
                    match ch {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\n' => return Err((start..i, "this string has no closing `\"` on its line".into())),
                        '\\' => {
                            let esc = text[i + 1..].chars().next().unwrap_or(' ');
                            s.push(match esc {
                                'n' => '\n',
                                't' => '\t',
                                '"' => '"',
                                '\\' => '\\',
                                _ => {
                                    return Err((
                                        i..i + 1 + esc.len_utf8(),
                                        format!("unknown escape `\\{esc}`; expected \\n, \\t, \\\" or \\\\"),
                                    ));
                                }
                            });
                            i += 1 + esc.len_utf8();
                        }
                        _ => {
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push(Token { tok: Tok::Str(s), span: start..i });
            }
            _ => {
                let rest = &text[i..];
                let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                    let ch = rest.chars().next().unwrap_or(' ');
                    return Err((i..i + ch.len_utf8(), format!("unexpected character `{ch}`")));
                };
                out.push(Token { tok: Tok::Sym(sym), span: i..i + sym.len() });
                i += sym.len();
            }
        }
    }
    out.push(Token { tok: Tok::Eof, span: text.len()..text.len() });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_spans() {
        let toks = lex("read x -> y # note\nwrite z = \"a\\\"b\"").unwrap_or_default();
        let kinds: Vec<_> = toks.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Ident("read".into()),
                Tok::Ident("x".into()),
                Tok::Sym("->"),
                Tok::Ident("y".into()),
                Tok::End,
                Tok::Ident("write".into()),
                Tok::Ident("z".into()),
                Tok::Sym("="),
                Tok::Str("a\"b".into()),
                Tok::Eof,
            ]
        );
        assert_eq!(toks[3].span, 10..11);
    }

    #[test]
    fn unterminated_string() {
        assert!(lex("emit \"abc").is_err());
    }
}
