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
        Server::start_with(addr, data, &[])
    }

    /// [`Server::start`] with more arguments for `souverain serve`.
    pub fn start_with(addr: &str, data: &Path, more: &[&std::ffi::OsStr]) -> Result<Server, String> {
        status(cmd("cargo", &["build", "--locked", "-p", "souverain"]))?;
        let binary = paths::souverain_debug();
        let mut command = cmd(&binary.to_string_lossy(), &["serve", "--addr", addr]);
        command.args(more);
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

/// The demo's studies (issue 18): the canteen study signed with the demo commune's key, its
/// helper aggregator beside the guichet (the next port), and simulated contributions the first
/// time. Set up once per address: the study names its two aggregators' URLs.
struct Studies {
    leader: std::path::PathBuf,
    helper: Child,
    helper_url: String,
    /// The study's task id when it was just set up (contributions are then simulated).
    fresh: Option<String>,
}

impl Drop for Studies {
    fn drop(&mut self) {
        let _ = self.helper.kill();
        let _ = self.helper.wait();
    }
}

fn start_studies(addr: &str, data: &Path) -> Result<Studies, String> {
    let (host, port) = addr.rsplit_once(':').ok_or("the address has no port")?;
    let port: u16 = port.parse().map_err(|_| "the address's port is not a number")?;
    let helper_addr = format!("{host}:{}", port.checked_add(1).ok_or("no port after the guichet's")?);
    let dir = data.join("studies");
    let marker = dir.join("address");
    let binary = paths::souverain_debug();
    let binary = binary.to_string_lossy();
    let fresh = if std::fs::read_to_string(&marker).ok().as_deref() != Some(addr) {
        let _ = std::fs::remove_dir_all(&dir);
        let template = paths::root().join("crates/guichet/demo/studies/cantine.json");
        let mut setup = cmd(&binary, &["study", "setup", "--keys"]);
        setup.arg(data.join("keys")).arg("--template").arg(template).arg("--out").arg(&dir);
        setup.args(["--leader-url", &format!("http://{addr}/dap/"), "--helper-url", &format!("http://{helper_addr}/")]);
        println!("$ {}", crate::run::describe(&setup));
        let printed = crate::run::probe(setup).ok_or("souverain study setup failed")?;
        let task = printed.strip_prefix("study ").ok_or("souverain study setup printed no study")?.to_owned();
        std::fs::write(&marker, addr).map_err(|err| format!("{}: {err}", marker.display()))?;
        Some(task)
    } else {
        None
    };
    let mut helper = cmd(&binary, &["aggregator", "--addr", &helper_addr, "--config"]);
    helper.arg(dir.join("helper.toml")).arg("--db").arg(dir.join("helper.sqlite3")).stdout(Stdio::piped());
    let mut helper = helper.spawn().map_err(|err| format!("cannot start the studies' helper: {err}"))?;
    let mut first = String::new();
    let stdout = helper.stdout.take().ok_or("the helper has no stdout")?;
    BufReader::new(stdout).read_line(&mut first).map_err(|err| err.to_string())?;
    let helper_url = first.trim().strip_prefix("listening on ").ok_or("the helper did not start")?.to_owned();
    Ok(Studies { leader: dir.join("leader.toml"), helper, helper_url, fresh })
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
    let data = paths::demo_guichet_data();
    status(cmd("cargo", &["build", "--locked", "-p", "souverain"]))?;
    let studies = start_studies(&addr, &data)?;
    let mut server = Server::start_with(&addr, &data, &["--studies".as_ref(), studies.leader.as_os_str()])?;
    if let Some(task) = &studies.fresh {
        // Forty neighbours have answered already (simulated), so the study is not empty.
        let binary = paths::souverain_debug();
        let simulate = ["study", "simulate", "--guichet", &server.url, "--task", task, "--count", "40"];
        status(cmd(&binary.to_string_lossy(), &simulate))?;
    }
    let pid = server.child.id();
    // Ctrl-C reaches the server too when both share the terminal; this covers a signal sent to
    // xtask alone. Either way the server shuts down gracefully and xtask returns.
    ctrlc::set_handler(move || terminate(pid)).map_err(|err| format!("cannot watch Ctrl-C: {err}"))?;
    println!();
    println!("Souverain is ready ({:.0?} from start).", started.elapsed());
    println!("  wallet:  {}/", server.url);
    println!("  health:  {}/healthz", server.url);
    println!("  studies: {}/dap/studies (helper aggregator: {})", server.url, studies.helper_url);
    println!("Press Ctrl-C to stop.");
    for line in server.output.by_ref().map_while(Result::ok) {
        println!("{line}");
    }
    let exit = server.child.wait().map_err(|err| err.to_string())?;
    println!("guichet stopped ({exit})");
    Ok(())
}
