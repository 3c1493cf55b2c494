//! Commands printed for people to paste: every argument quoted for a POSIX shell when it
//! holds anything but characters a shell leaves alone, and the program named as it was run.

/// `s` as a shell word: as it is when it is only `[A-Za-z0-9/._+:@-]`, else single-quoted.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s.to_owned()
    } else if s.chars().any(char::is_control) {
        // Control characters are not pasted raw (nor printed raw to a terminal): `$'...'`
        // (POSIX.1-2024, bash, zsh, ksh) spells each as an octal escape.
        let mut out = String::from("$'");
        for c in s.chars() {
            match c {
                '\\' | '\'' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The name this process was started as (`racelab`, or a user's own binary built on
/// `racelab::cli::main`), so a printed command reaches the registry that produced it.
pub fn program() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "racelab".to_owned())
}

/// The command that runs exactly run `seed` of `strategy` on `file`'s `variant`, as this
/// process was started.
pub fn reproduce(file: &str, variant: &str, seed: u64, strategy: &str) -> String {
    run_command(&program(), file, variant, seed, strategy)
}

/// [`reproduce`] for a named program (a test binary is not the CLI its failures need).
pub fn run_command(program: &str, file: &str, variant: &str, seed: u64, strategy: &str) -> String {
    format!(
        "{} run {} --variant {} --seed {seed} --strategy {}",
        quote(program),
        quote(file),
        quote(variant),
        quote(strategy)
    )
}

/// The command that replays a failure file exactly, as this process was started.
pub fn replay(path: &std::path::Path) -> String {
    replay_command(&program(), path)
}

/// [`replay`] for a named program.
pub fn replay_command(program: &str, path: &std::path::Path) -> String {
    format!("{} replay {}", quote(program), quote(&path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(quote("scenarios/a_b-1.toml"), "scenarios/a_b-1.toml");
        assert_eq!(quote("my scenarios/x.toml"), "'my scenarios/x.toml'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(touch x)"), "'$(touch x)'");
    }
}
