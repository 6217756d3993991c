//! One error type for the whole tool, printed as a JSON object with a stable code.

use std::process::ExitCode;

/// Everything that can stop a command, one variant per cause.
#[derive(Debug)]
pub enum CliError {
    /// The guichet could not start.
    ServerStart(souverain_guichet::StartError),
    /// The guichet stopped on an I/O error while serving.
    ServerIo(std::io::Error),
}

impl CliError {
    /// The stable, snake_case code that scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::ServerStart(_) => "server_start_failed",
            CliError::ServerIo(_) => "server_io_error",
        }
    }

    /// 1 for an invalid credential or presentation, 2 for usage or I/O errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::ServerStart(_) | CliError::ServerIo(_) => 2,
        }
    }

    /// The human explanation.
    pub fn message(&self) -> String {
        match self {
            CliError::ServerStart(e) => e.to_string(),
            CliError::ServerIo(e) => format!("the server stopped: {e}"),
        }
    }

    /// Prints the JSON error on stdout and returns the exit code.
    pub fn report(&self) -> ExitCode {
        print_error(self.code(), &self.message());
        ExitCode::from(self.exit_code())
    }
}

fn print_error(code: &str, message: &str) {
    println!("{}", serde_json::json!({ "error": code, "message": message }));
}

/// Help and version go to stdout with exit 0; every other parse failure is a usage error (2).
pub fn clap_exit(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{err}");
            ExitCode::SUCCESS
        }
        _ => {
            let text = err.render().to_string();
            let first_line = text.lines().next().unwrap_or("invalid usage").trim_start_matches("error: ");
            print_error("usage", first_line);
            ExitCode::from(2)
        }
    }
}
