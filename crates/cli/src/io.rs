//! Reading inputs (files, stdin, keys) and the clock: the only places the CLI touches the world.

use std::io::Read as _;
use std::path::Path;

use souverain_core::jose::{Jwk, PublicKey, SigningKey};

use crate::error::CliError;

/// Inputs larger than this are refused: credentials and lists are kilobytes, not gigabytes.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Reads a whole file as UTF-8 text.
pub fn read_file(path: &Path) -> Result<String, CliError> {
    let io = |source| CliError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_INPUT).read_to_string(&mut text).map_err(io)?;
    Ok(text)
}

/// Reads all of stdin as UTF-8 text.
pub fn read_stdin() -> Result<String, CliError> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .map_err(|source| CliError::Io { path: "<stdin>".to_owned(), source })?;
    Ok(text)
}

/// Parses JWK text, naming where it came from in the error.
pub fn parse_jwk(text: &str, origin: &str) -> Result<Jwk, CliError> {
    Jwk::from_json(text.trim()).map_err(|source| CliError::Key { origin: origin.to_owned(), source })
}

/// A private JWK file.
pub fn signing_key(path: &Path) -> Result<SigningKey, CliError> {
    let origin = path.display().to_string();
    let jwk = parse_jwk(&read_file(path)?, &origin)?;
    SigningKey::from_jwk(&jwk).map_err(|source| CliError::Key { origin, source })
}

/// A JWK file, public or private (only the public part is used).
pub fn public_key(path: &Path) -> Result<PublicKey, CliError> {
    let origin = path.display().to_string();
    let jwk = parse_jwk(&read_file(path)?, &origin)?;
    PublicKey::from_jwk(&jwk).map_err(|source| CliError::Key { origin, source })
}

/// `--now` when given, else the system clock, as Unix seconds.
pub fn now_or_clock(now: Option<u64>) -> u64 {
    now.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
    })
}

/// Writes one line on stdout. A closed pipe (`souverain keygen | head -1`) is not an error worth
/// a panic: the reader has what it wanted, so the write failure is ignored.
pub fn print_line(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// Prints a JSON value on stdout, pretty, followed by a newline.
pub fn print_json(value: &serde_json::Value) {
    print_line(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Writes one line on stderr (a server's internal errors; stdout is for results).
pub fn print_error_line(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
