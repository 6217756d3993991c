//! Running commands: echoing them, streaming their output, and reading test counts from it.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use crate::paths;

/// A command ready to run from the repository root with the tool PATH.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(paths::root()).env("PATH", paths::tool_path());
    command
}

/// Describes a command for the log.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs to completion with inherited output; `Err` names the command on failure.
pub fn status(mut command: Command) -> Result<(), String> {
    let text = describe(&command);
    println!("$ {text}");
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{text}` failed ({status})")),
        Err(err) => Err(format!("`{text}` could not start: {err}")),
    }
}

/// Runs and returns trimmed stdout, or `None` if it cannot start or fails (used to probe versions).
pub fn probe(mut command: Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Test counts read from a runner's output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
}

impl Counts {
    /// Adds another stage's counts.
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Reads one line of test-runner output: cargo's `test result: ok. 3 passed; 1 failed; ...`
/// (also printed by wasm-bindgen-test-runner), TAP's `# pass 3` / `# fail 1` (node --test), or
/// pytest's closing `3 passed, 1 failed in 0.12s`.
pub fn parse_counts(line: &str, counts: &mut Counts) {
    let line = line.trim();
    let pytest = line.trim_matches(|c| c == '=' || c == ' ');
    if pytest.starts_with(|c: char| c.is_ascii_digit()) && pytest.contains(" in ") {
        let (tallies, _) = pytest.split_once(" in ").unwrap_or((pytest, ""));
        for part in tallies.split(',') {
            let mut words = part.split_whitespace();
            let (Some(number), Some(label)) = (words.next(), words.next()) else { continue };
            let Ok(n) = number.parse::<u64>() else { continue };
            match label {
                "passed" => counts.passed += n,
                "failed" | "error" | "errors" => counts.failed += n,
                _ => {}
            }
        }
    } else if let Some(rest) = line.strip_prefix("test result: ") {
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else { continue };
            let Ok(n) = number.parse::<u64>() else { continue };
            match label {
                "passed" => counts.passed += n,
                "failed" => counts.failed += n,
                _ => {}
            }
        }
    } else if let Some(n) = line.strip_prefix("# pass ") {
        counts.passed += n.trim().parse::<u64>().unwrap_or(0);
    } else if let Some(n) = line.strip_prefix("# fail ") {
        counts.failed += n.trim().parse::<u64>().unwrap_or(0);
    }
}

/// Runs a test runner, streaming its stdout while counting, and returns (success, counts).
pub fn counted(mut command: Command) -> Result<(bool, Counts), String> {
    let text = describe(&command);
    println!("$ {text}");
    let mut child = command.stdout(Stdio::piped()).spawn().map_err(|err| format!("`{text}` could not start: {err}"))?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            parse_counts(&line, &mut counts);
        }
    }
    let status = child.wait().map_err(|err| format!("`{text}`: {err}"))?;
    Ok((status.success(), counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_and_tap_summaries() {
        let mut counts = Counts::default();
        parse_counts(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            &mut counts,
        );
        parse_counts("test result: FAILED. 3 passed; 2 failed; 0 ignored", &mut counts);
        parse_counts("# pass 4", &mut counts);
        parse_counts("# fail 1", &mut counts);
        parse_counts("running 12 tests", &mut counts);
        parse_counts("==== 5 passed, 1 failed, 2 skipped in 0.31s ====", &mut counts);
        parse_counts("2 passed in 0.05s", &mut counts);
        assert_eq!(counts, Counts { passed: 26, failed: 4 });
    }
}
