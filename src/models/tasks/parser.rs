//! The parser: program text to statements, or the first error with its location.
//!
//! One statement per line (or separated by `;`); blocks are braces, opened on the line of
//! their statement: `if ready { ... } else { ... }`.

use super::ast::*;
use super::lexer::{SyntaxError, Tok, Token, lex};
use super::value::BinOp;
use std::ops::Range;

/// Every statement keyword, for "expected one of" messages.
pub const STATEMENTS: &[&str] = &[
    "lock",
    "unlock",
    "read_lock",
    "write_lock",
    "with",
    "read",
    "write",
    "delete",
    "set",
    "await",
    "call",
    "if",
    "while",
    "loop",
    "break",
    "continue",
    "retry",
    "try",
    "spawn",
    "cancel",
    "join",
    "assert",
    "emit",
    "return",
    "fail",
    "wait",
    "send",
    "recv",
    "new",
    "on",
    "off",
    "fire",
];

const RESERVED: &[&str] = &["and", "or", "not", "true", "false", "none", "else", "catch"];

/// How deep blocks, parentheses and `not`/`-` may nest: every later pass (compiling,
/// evaluating, dropping the tree) recurses over it, so it is bounded here, with a located
/// error, rather than by the stack.
pub const MAX_NESTING: usize = 32;
/// How many terms one chain of `+`, `*`, `and`, `or` or `[...]` may join (each is a level of
/// the tree too).
pub const MAX_TERMS: usize = 64;

/// Parse a whole program.
pub fn parse_program(text: &str) -> Result<Block, SyntaxError> {
    let mut p = Parser { toks: lex(text)?, pos: 0, depth: 0 };
    let block = p.block(None)?;
    Ok(block)
}

/// Parse one expression filling the whole text (a final check).
pub fn parse_expression(text: &str) -> Result<Expr, SyntaxError> {
    let mut p = Parser { toks: lex(text)?, pos: 0, depth: 0 };
    p.skip_ends();
    let e = p.expr()?;
    p.skip_ends();
    if p.peek() != &Tok::Eof {
        let t = p.token();
        return Err((t.span.clone(), format!("expected the end of the check, found {}", t.tok.describe())));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Current nesting of blocks, parentheses and prefix operators.
    depth: usize,
}

impl Parser {
    /// Run `f` one level deeper, refusing to go past [`MAX_NESTING`].
    fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, SyntaxError>) -> Result<T, SyntaxError> {
        if self.depth >= MAX_NESTING {
            return Err((
                self.token().span.clone(),
                format!("nested more than {MAX_NESTING} levels deep; expected a flatter program (use a local)"),
            ));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// Refuse a chain of more than [`MAX_TERMS`] terms, at the operator that would add one.
    fn count_term(&self, terms: &mut usize) -> Result<(), SyntaxError> {
        *terms += 1;
        if *terms > MAX_TERMS {
            return Err((
                self.token().span.clone(),
                format!("more than {MAX_TERMS} terms in one expression; expected it split (use a local)"),
            ));
        }
        Ok(())
    }

    fn token(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek(&self) -> &Tok {
        &self.token().tok
    }

    fn bump(&mut self) -> Token {
        let t = self.token().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn skip_ends(&mut self) {
        while self.peek() == &Tok::End {
            self.bump();
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == w)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        let yes = self.is_sym(s);
        if yes {
            self.bump();
        }
        yes
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.bump();
        }
        yes
    }

    fn error<T>(&self, what: &str) -> Result<T, SyntaxError> {
        let t = self.token();
        Err((t.span.clone(), format!("expected {what}, found {}", t.tok.describe())))
    }

    fn expect_sym(&mut self, s: &str, context: &str) -> Result<Range<usize>, SyntaxError> {
        if self.is_sym(s) { Ok(self.bump().span) } else { self.error(&format!("`{s}` {context}")) }
    }

    fn name(&mut self, what: &str) -> Result<Name, SyntaxError> {
        match self.peek().clone() {
            Tok::Ident(text) if !RESERVED.contains(&text.as_str()) => {
                let span = self.bump().span;
                Ok(Name { text, span })
            }
            _ => self.error(what),
        }
    }

    fn uint(&mut self, what: &str) -> Result<(u64, Range<usize>), SyntaxError> {
        match *self.peek() {
            Tok::Int(n) => {
                let span = self.bump().span;
                Ok((n as u64, span))
            }
            _ => self.error(what),
        }
    }

    /// `(e)` as `e`, `(a, b)` as the list `[a, b]`, nothing as `None`.
    fn arguments(&mut self, what: &str) -> Result<Option<Expr>, SyntaxError> {
        let Some(open) = (if self.is_sym("(") { Some(self.bump().span) } else { None }) else { return Ok(None) };
        let mut args = Vec::new();
        if !self.is_sym(")") {
            loop {
                args.push(self.expr()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let close = self.expect_sym(")", &format!("to close {what}"))?;
        Ok(match args.len() {
            0 => None,
            1 => args.pop(),
            _ => Some(Expr { kind: ExprKind::List(args), span: open.start..close.end }),
        })
    }

    /// Statements until `}` (when `open` is the brace's span) or the end of the program.
    fn block(&mut self, open: Option<Range<usize>>) -> Result<Block, SyntaxError> {
        let mut out = Vec::new();
        loop {
            self.skip_ends();
            match (self.peek(), &open) {
                (Tok::Eof, None) => return Ok(out),
                (Tok::Eof, Some(span)) => {
                    return Err((span.clone(), "this `{` is never closed; expected a matching `}`".into()));
                }
                (Tok::Sym("}"), Some(_)) => {
                    self.bump();
                    return Ok(out);
                }
                (Tok::Sym("}"), None) => return Err((self.token().span.clone(), "unmatched `}`".into())),
                _ => {}
            }
            out.push(self.statement()?);
            match self.peek() {
                Tok::End | Tok::Eof | Tok::Sym("}") => {}
                _ => return self.error("the end of the statement"),
            }
        }
    }

    fn braced(&mut self, context: &str) -> Result<Block, SyntaxError> {
        let open = self.expect_sym("{", context)?;
        self.nest(|p| p.block(Some(open)))
    }

    fn statement(&mut self) -> Result<Stmt, SyntaxError> {
        let first = self.token().clone();
        let Tok::Ident(word) = first.tok.clone() else {
            return self.error(&format!("a statement ({})", STATEMENTS.join(", ")));
        };
        if !STATEMENTS.contains(&word.as_str()) {
            let hint = if matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Sym("=" | "["))) {
                format!(
                    "; to assign a local write `set {word} = ...`, to assign a shared variable `write {word} = ...`"
                )
            } else {
                String::new()
            };
            return Err((
                first.span.clone(),
                format!("unknown statement `{word}`; expected one of: {}{hint}", STATEMENTS.join(", ")),
            ));
        }
        self.bump();
        let kind = match word.as_str() {
            "lock" => StmtKind::Lock { mode: Mode::Mutex, lock: self.name("a lock name after `lock`")? },
            "read_lock" => StmtKind::Lock { mode: Mode::Read, lock: self.name("a lock name after `read_lock`")? },
            "write_lock" => StmtKind::Lock { mode: Mode::Write, lock: self.name("a lock name after `write_lock`")? },
            "unlock" => StmtKind::Unlock { lock: self.name("a lock name after `unlock`")? },
            "with" => {
                let mode = if self.eat_word("read") {
                    Mode::Read
                } else if self.eat_word("write") {
                    Mode::Write
                } else {
                    Mode::Mutex
                };
                let lock = self.name("a lock name after `with`")?;
                let body = self.braced("to open the `with` block")?;
                StmtKind::With { mode, lock, body }
            }
            "read" => {
                let var = self.name("a shared variable after `read`")?;
                let key = self.opt_key()?;
                self.expect_sym("->", "after the variable read (`read VAR -> LOCAL`)")?;
                let into = self.name("a local name after `->`")?;
                StmtKind::Read { var, key, into }
            }
            "write" => {
                let var = self.name("a shared variable after `write`")?;
                let key = self.opt_key()?;
                self.expect_sym("=", "after the variable (`write VAR = EXPR`)")?;
                StmtKind::Write { var, key, value: self.expr()? }
            }
            "delete" => {
                let var = self.name("a shared map after `delete`")?;
                let Some(key) = self.opt_key()? else {
                    return self.error("`[KEY]` after the map (`delete VAR[KEY]`)");
                };
                StmtKind::Delete { var, key }
            }
            "set" => {
                let local = self.name("a local name after `set`")?;
                let key = self.opt_key()?;
                self.expect_sym("=", "after the local (`set LOCAL = EXPR`)")?;
                StmtKind::Set { local, key, value: self.expr()? }
            }
            "await" => {
                let (lo, hi, span) = if self.is_sym("[") {
                    let open = self.bump().span;
                    let (lo, _) = self.uint("a number of ticks")?;
                    self.expect_sym(",", "between the bounds of `await [a, b]`")?;
                    let (hi, _) = self.uint("a number of ticks")?;
                    let close = self.expect_sym("]", "to close `await [a, b]`")?;
                    (lo, hi, open.start..close.end)
                } else {
                    let (n, span) = self.uint("a number of ticks or a window [a, b] after `await`")?;
                    (n, n, span)
                };
                if lo == 0 {
                    return Err((span, "`await` takes at least 1 tick (a tick is the shortest time)".into()));
                }
                if lo > hi {
                    return Err((
                        span,
                        format!("`await [{lo}, {hi}]` ends before it starts; expected [a, b] with a <= b"),
                    ));
                }
                StmtKind::Await { lo, hi }
            }
            "call" => {
                let service = self.name("a service name after `call`")?;
                let arg = self.arguments("the call's arguments")?;
                let timeout = if self.eat_word("timeout") { Some(self.expr()?) } else { None };
                let into = if self.eat_sym("->") { Some(self.name("a local name after `->`")?) } else { None };
                StmtKind::Call { service, arg, timeout, into }
            }
            "if" => {
                let mut branches = vec![(self.expr()?, self.braced("after the condition of `if`")?)];
                let mut otherwise = None;
                while self.eat_word("else") {
                    if self.eat_word("if") {
                        branches.push((self.expr()?, self.braced("after the condition of `else if`")?));
                    } else {
                        otherwise = Some(self.braced("after `else`")?);
                        break;
                    }
                }
                StmtKind::If { branches, otherwise }
            }
            "while" => {
                let cond = self.expr()?;
                StmtKind::While { cond, body: self.braced("after the condition of `while`")? }
            }
            "loop" => StmtKind::Loop { body: self.braced("after `loop`")? },
            "break" => StmtKind::Break,
            "continue" => StmtKind::Continue,
            "retry" => {
                let (n, span) = self.uint("a number of attempts after `retry`")?;
                if n == 0 || n > u64::from(u32::MAX) {
                    return Err((span, "`retry` takes a number of attempts of at least 1".into()));
                }
                let body = self.braced("after the number of attempts")?;
                let otherwise = if self.eat_word("else") { Some(self.braced("after `else`")?) } else { None };
                StmtKind::Retry { times: n as u32, body, otherwise }
            }
            "try" => {
                let body = self.braced("after `try`")?;
                if !self.eat_word("catch") {
                    return self.error("`catch` after the `try` block");
                }
                let bind = if self.is_sym("{") { None } else { Some(self.name("a local name or `{` after `catch`")?) };
                StmtKind::Try { body, bind, catch: self.braced("to open the `catch` block")? }
            }
            "spawn" => {
                let task = self.name("a task name after `spawn`")?;
                let args = self.arguments("the task's arguments")?.into_iter().collect();
                let into = if self.eat_sym("->") { Some(self.name("a local name after `->`")?) } else { None };
                StmtKind::Spawn { task, args, into }
            }
            "wait" => {
                if !self.eat_word("until") {
                    return self.error("`until` after `wait` (`wait until CONDITION [timeout N] [-> LOCAL]`)");
                }
                let cond = self.expr()?;
                let timeout = if self.eat_word("timeout") { Some(self.expr()?) } else { None };
                let into = if self.eat_sym("->") { Some(self.name("a local name after `->`")?) } else { None };
                StmtKind::WaitUntil { cond, timeout, into }
            }
            "send" => {
                let queue = self.name("a queue name after `send`")?;
                StmtKind::Send { queue, value: self.expr()? }
            }
            "recv" => {
                let queue = self.name("a queue name after `recv`")?;
                let timeout = if self.eat_word("timeout") { Some(self.expr()?) } else { None };
                self.expect_sym("->", "after the queue (`recv QUEUE [timeout N] -> LOCAL`)")?;
                let into = Some(self.name("a local name after `->`")?);
                StmtKind::Recv { queue, timeout, into }
            }
            "on" | "off" => {
                let service = self.name(&format!("a service name after `{word}` (`{word} SERVICE.EVENT`)"))?;
                self.expect_sym(".", &format!("between the service and the event (`{word} SERVICE.EVENT`)"))?;
                let event = self.name("an event name after `.`")?;
                if word == "off" {
                    StmtKind::Off { service, event }
                } else {
                    StmtKind::On { service, event, body: self.braced("to open the callback's body")? }
                }
            }
            "fire" => {
                let event = self.name("an event name after `fire`")?;
                let value =
                    if matches!(self.peek(), Tok::End | Tok::Eof | Tok::Sym("}")) { None } else { Some(self.expr()?) };
                StmtKind::Fire { event, value }
            }
            "new" => {
                let kind = self.name("a kind of object after `new` (`new socket -> s`)")?;
                self.expect_sym("->", "after the kind (`new KIND -> LOCAL`)")?;
                StmtKind::New { kind, into: self.name("a local name after `->`")? }
            }
            "cancel" => StmtKind::Cancel { target: self.name("a task name or handle after `cancel`")? },
            "join" => StmtKind::Join { target: self.name("a task name or handle after `join`")? },
            "assert" => {
                let cond = self.expr()?;
                let message = match self.peek().clone() {
                    Tok::Str(s) => {
                        self.bump();
                        Some(s)
                    }
                    _ => None,
                };
                StmtKind::Assert { cond, message }
            }
            "emit" => StmtKind::Emit { event: self.name("an event name after `emit`")? },
            "return" => {
                let value =
                    if matches!(self.peek(), Tok::End | Tok::Eof | Tok::Sym("}")) { None } else { Some(self.expr()?) };
                StmtKind::Return { value }
            }
            "fail" => StmtKind::Fail { message: self.expr()? },
            _ => unreachable!("every statement keyword is handled"),
        };
        let end = self.toks[self.pos.saturating_sub(1)].span.end.max(first.span.end);
        Ok(Stmt { kind, span: first.span.start..end })
    }

    fn opt_key(&mut self) -> Result<Option<Expr>, SyntaxError> {
        if self.eat_sym("[") {
            let e = self.expr()?;
            self.expect_sym("]", "to close the key")?;
            Ok(Some(e))
        } else {
            Ok(None)
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.nest(Self::or_expr)
    }

    fn or_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = 1;
        let mut left = self.and_expr()?;
        while self.is_word("or") {
            self.count_term(&mut terms)?;
            self.bump();
            let right = self.and_expr()?;
            left = join(left, right, ExprKind::Or);
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = 1;
        let mut left = self.not_expr()?;
        while self.is_word("and") {
            self.count_term(&mut terms)?;
            self.bump();
            let right = self.not_expr()?;
            left = join(left, right, ExprKind::And);
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_word("not") {
            let start = self.bump().span.start;
            let inner = self.nest(Self::not_expr)?;
            let span = start..inner.span.end;
            return Ok(Expr { kind: ExprKind::Not(Box::new(inner)), span });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Tok::Sym("==") => BinOp::Eq,
            Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym(">=") => BinOp::Ge,
            Tok::Sym("=") => {
                return Err((self.token().span.clone(), "`=` assigns; to compare write `==`".into()));
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.sum()?;
        if matches!(self.peek(), Tok::Sym("==" | "!=" | "<" | "<=" | ">" | ">=")) {
            return Err((self.token().span.clone(), "comparisons do not chain; join them with `and`".into()));
        }
        Ok(join(left, right, |a, b| ExprKind::Binary(op, a, b)))
    }

    fn sum(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = 1;
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOp::Add,
                Tok::Sym("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.count_term(&mut terms)?;
            self.bump();
            let right = self.product()?;
            left = join(left, right, |a, b| ExprKind::Binary(op, a, b));
        }
    }

    fn product(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = 1;
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOp::Mul,
                Tok::Sym("/") => BinOp::Div,
                Tok::Sym("%") => BinOp::Rem,
                _ => return Ok(left),
            };
            self.count_term(&mut terms)?;
            self.bump();
            let right = self.unary()?;
            left = join(left, right, |a, b| ExprKind::Binary(op, a, b));
        }
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_sym("-") {
            let start = self.bump().span.start;
            let inner = self.nest(Self::unary)?;
            let span = start..inner.span.end;
            return Ok(Expr { kind: ExprKind::Neg(Box::new(inner)), span });
        }
        let mut e = self.primary()?;
        let mut terms = 1;
        while self.is_sym("[") {
            self.count_term(&mut terms)?;
            self.bump();
            let key = self.expr()?;
            let close = self.expect_sym("]", "to close the key")?;
            let span = e.span.start..close.end;
            e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(key)), span };
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let t = self.token().clone();
        let kind = match t.tok {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Ident(ref w) if w == "true" => ExprKind::Bool(true),
            Tok::Ident(ref w) if w == "false" => ExprKind::Bool(false),
            Tok::Ident(ref w) if w == "none" => ExprKind::None,
            Tok::Ident(ref w) if !RESERVED.contains(&w.as_str()) => {
                self.bump();
                let name = Name { text: w.clone(), span: t.span.clone() };
                if self.eat_sym("(") {
                    let mut args = Vec::new();
                    if !self.is_sym(")") {
                        loop {
                            args.push(self.expr()?);
                            if !self.eat_sym(",") {
                                break;
                            }
                        }
                    }
                    let close = self.expect_sym(")", "to close the argument list")?;
                    return Ok(Expr { kind: ExprKind::Call(name, args), span: t.span.start..close.end });
                }
                if self.eat_sym(".") {
                    let field = self.name("a name after `.`")?;
                    let span = t.span.start..field.span.end;
                    return Ok(Expr { kind: ExprKind::Field(name, field), span });
                }
                return Ok(Expr { kind: ExprKind::Name(name), span: t.span });
            }
            Tok::Sym("(") => {
                self.bump();
                let inner = self.expr()?;
                let close = self.expect_sym(")", "to close the parenthesis")?;
                return Ok(Expr { kind: inner.kind, span: t.span.start..close.end });
            }
            Tok::Sym("[") => {
                self.bump();
                let mut items = Vec::new();
                if !self.is_sym("]") {
                    loop {
                        items.push(self.nest(Self::expr)?);
                        if !self.eat_sym(",") {
                            break;
                        }
                        let mut n = items.len();
                        self.count_term(&mut n)?;
                    }
                }
                let close = self.expect_sym("]", "to close the list")?;
                return Ok(Expr { kind: ExprKind::List(items), span: t.span.start..close.end });
            }
            Tok::Sym("{") => {
                self.bump();
                let close = self.expect_sym("}", "after `{` (only the empty map `{}` can be written)")?;
                return Ok(Expr { kind: ExprKind::EmptyMap, span: t.span.start..close.end });
            }
            _ => {
                let after = self.pos.checked_sub(1).map(|i| &self.toks[i].tok);
                let context = match after {
                    Some(Tok::Sym(s)) => format!(" after `{s}`"),
                    Some(Tok::Ident(w)) if RESERVED.contains(&w.as_str()) || STATEMENTS.contains(&w.as_str()) => {
                        format!(" after `{w}`")
                    }
                    _ => String::new(),
                };
                return Err((t.span.clone(), format!("expected an expression{context}, found {}", t.tok.describe())));
            }
        };
        self.bump();
        Ok(Expr { kind, span: t.span })
    }
}

fn join(left: Expr, right: Expr, make: impl FnOnce(Box<Expr>, Box<Expr>) -> ExprKind) -> Expr {
    let span = left.span.start..right.span.end;
    Expr { kind: make(Box::new(left), Box::new(right)), span }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_blocks() {
        let prog = "with tokens_lock {\n  read tokens[user] -> t\n  if t == none { fail \"missing\" } else { emit ok }\n}\nretry 3 {\n  call api(1) -> r\n} else {\n  set r = none\n}\n";
        let block = parse_program(prog).unwrap_or_default();
        assert_eq!(block.len(), 2);
        assert!(matches!(block[0].kind, StmtKind::With { .. }));
        assert!(matches!(block[1].kind, StmtKind::Retry { times: 3, otherwise: Some(_), .. }));
    }

    #[test]
    fn precedence() {
        let e = parse_expression("not a + 1 == 2 and b or c");
        let Ok(Expr { kind: ExprKind::Or(left, _), .. }) = e else { panic!("expected `or` at the top: {e:?}") };
        assert!(matches!(left.kind, ExprKind::And(..)));
    }

    #[test]
    fn deep_nesting_and_long_chains_are_located_errors_not_overflows() {
        let deep = format!("set x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let Err((span, msg)) = parse_program(&deep) else { panic!("expected an error") };
        assert!(msg.starts_with("nested more than 32 levels deep"), "{msg}");
        assert!(span.start < 100, "located at the first level too deep: {span:?}");
        let nots = format!("set x = {}true", "not ".repeat(100_000));
        assert!(parse_program(&nots).is_err_and(|(_, m)| m.starts_with("nested more than")));
        let negs = format!("set x = {}1", "- ".repeat(100_000));
        assert!(parse_program(&negs).is_err_and(|(_, m)| m.starts_with("nested more than")));
        let blocks = format!("{}emit a{}", "loop {\n".repeat(10_000), "\n}".repeat(10_000));
        assert!(parse_program(&blocks).is_err_and(|(_, m)| m.starts_with("nested more than")));
        let chain = format!("set x = 1{}", " + 1".repeat(100_000));
        assert!(parse_program(&chain).is_err_and(|(_, m)| m.starts_with("more than 64 terms")));
        // Within the limits all is well.
        let ok = format!("set x = {}1{}", "(".repeat(30), ")".repeat(30));
        assert!(parse_program(&ok).is_ok());
        assert!(parse_program(&format!("set x = 1{}", " + 1".repeat(63))).is_ok());
    }

    #[test]
    fn errors_are_located() {
        let text = "read x -> y\nwrite y = 1 +\n";
        let Err((span, msg)) = parse_program(text) else { panic!("expected an error") };
        assert_eq!(&text[span], "\n");
        assert!(msg.contains("expected an expression after `+`"), "{msg}");
        let Err((span, msg)) = parse_program("lock a\nfrobnicate b\n") else { panic!("expected an error") };
        assert_eq!(span, 7..17);
        assert!(msg.starts_with("unknown statement `frobnicate`"), "{msg}");
    }
}
