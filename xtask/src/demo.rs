//! `cargo xtask demo`: build everything, then serve the wallet and the demo commune.

use std::io::{BufRead as _, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Instant;

use crate::paths;
use crate::run::{cmd, status};
use crate::tools::{self, Need};
use crate::wallet;

/// A running `souverain serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// Its base URL, as it reported it.
    pub url: String,
    /// The rest of its stdout, to keep echoing.
    pub output: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Builds the `souverain` binary and starts it on `addr` serving the release wallet, with its
    /// database and keys in `data`; waits for its `listening on` line.
    pub fn start(addr: &str, data: &Path) -> Result<Server, String> {
        status(cmd("cargo", &["build", "--locked", "-p", "souverain"]))?;
        let binary = paths::souverain_debug();
        let mut command = cmd(&binary.to_string_lossy(), &["serve", "--addr", addr]);
        command.arg("--wallet-dist").arg(paths::wallet_dist());
        command.arg("--db").arg(data.join("guichet.sqlite3")).stdout(Stdio::piped());
        let mut child = command.spawn().map_err(|err| format!("cannot start the guichet: {err}"))?;
        let stdout = child.stdout.take().ok_or("the guichet has no stdout")?;
        let mut output = BufReader::new(stdout).lines();
        loop {
            match output.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        return Ok(Server { url: url.trim().to_owned(), child, output });
                    }
                    println!("{line}");
                }
                _ => {
                    let code = child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!("the guichet stopped before listening ({code})"));
                }
            }
        }
    }

    /// Asks the server to stop (SIGTERM, graceful) and waits for it.
    pub fn stop(mut self) {
        terminate(self.child.id());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGTERM through the system's `kill`, which keeps xtask free of unsafe code.
fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

/// `cargo xtask demo [--addr HOST:PORT]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let addr = match args {
        [] => std::env::var("SOUVERAIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned()),
        [flag, value] if flag == "--addr" => value.clone(),
        _ => return Err("usage: cargo xtask demo [--addr HOST:PORT]".to_owned()),
    };
    let started = Instant::now();
    tools::ensure(Need::Build)?;
    wallet::build_release()?;
    let mut server = Server::start(&addr, &paths::demo_guichet_data())?;
    let pid = server.child.id();
    // Ctrl-C reaches the server too when both share the terminal; this covers a signal sent to
    // xtask alone. Either way the server shuts down gracefully and xtask returns.
    ctrlc::set_handler(move || terminate(pid)).map_err(|err| format!("cannot watch Ctrl-C: {err}"))?;
    println!();
    println!("Souverain is ready ({:.0?} from start).", started.elapsed());
    println!("  wallet:  {}/", server.url);
    println!("  health:  {}/healthz", server.url);
    println!("Press Ctrl-C to stop.");
    for line in server.output.by_ref().map_while(Result::ok) {
        println!("{line}");
    }
    let exit = server.child.wait().map_err(|err| err.to_string())?;
    println!("guichet stopped ({exit})");
    Ok(())
}
