//! A throwaway PostgreSQL cluster for the tests: Debian's server (`tools` installs it), a cluster
//! in a directory under `target/pg-test/`, listening on 127.0.0.1 on a free port with its unix
//! socket in the same directory and trust authentication (nothing else can reach it), one database
//! for the run. Dropping the [`Cluster`] stops it and removes its directory, also when a stage
//! fails; a cluster left by an interrupted run is stopped and removed by the next.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths;
use crate::run::{probe, status};
use crate::tools::PG_BIN;

/// The environment variable through which the tests receive the database's URL.
pub const TEST_PG: &str = "SOUVERAIN_TEST_PG";

/// A running cluster, stopped and removed on drop.
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/souverain_test`.
    pub url: String,
}

/// Whether xtask runs as root: initdb refuses root, so the server then runs as `postgres`.
fn is_root() -> bool {
    let mut id = Command::new("id");
    id.arg("-u");
    probe(id).as_deref() == Some("0")
}

/// A PostgreSQL program, as the `postgres` user when xtask runs as root.
fn pg(program: &str) -> Command {
    as_postgres(Path::new(PG_BIN).join(program))
}

/// A command, as the `postgres` user when xtask runs as root.
fn as_postgres(path: impl AsRef<std::ffi::OsStr>) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

/// Stops a cluster left in `dir` (ignoring failures) and removes the directory.
fn discard(dir: &Path) {
    let data = dir.join("data");
    if data.join("postmaster.pid").exists() {
        let mut stop = pg("pg_ctl");
        stop.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]);
        let _ = probe(stop);
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Cluster {
    /// Creates and starts the cluster and its database.
    pub fn start() -> Result<Cluster, String> {
        let parent = paths::target_dir().join("pg-test");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            // Left by runs that are gone (a run still going keeps its own).
            for entry in entries.flatten() {
                if !Path::new("/proc").join(entry.file_name()).exists() {
                    discard(&entry.path());
                }
            }
        }
        let dir = parent.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Dropped from here on: whatever fails below leaves nothing running.
        let cluster = Cluster { dir: dir.clone(), port: 0, url: String::new() };
        if is_root() {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&dir);
            status(chown)?;
            let mut reach = as_postgres("test");
            reach.args(["-w"]).arg(&dir);
            if probe(reach).is_none() {
                return Err(format!(
                    "the postgres user cannot write to {} (a parent directory is closed to it)",
                    dir.display()
                ));
            }
        }
        let data = dir.join("data");
        let mut initdb = pg("initdb");
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-instructions",
        ]);
        status(initdb)?;
        let port = free_port()?;
        // A unix socket path must fit in 107 bytes; from a deeply nested checkout, TCP alone.
        let socket_dir = dir.display().to_string();
        let socket_dir = if socket_dir.len() + "/.s.PGSQL.65535".len() < 100 { socket_dir } else { "''".into() };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c max_connections=200 -c fsync=on -c synchronous_commit=on"
        );
        let mut start = pg("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        status(start)?;
        let mut createdb = pg("createdb");
        createdb.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "souverain_test"]);
        status(createdb)?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/souverain_test");
        println!("PostgreSQL: throwaway cluster in {} at {url}", dir.display());
        let mut cluster = cluster;
        cluster.url = url;
        cluster.port = port;
        Ok(cluster)
    }

    /// Creates another empty database in the cluster and returns its URL (a benchmark run that
    /// must not find an earlier run's rows).
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let mut createdb = pg("createdb");
        createdb.args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name]);
        status(createdb)?;
        Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        discard(&self.dir);
        println!("PostgreSQL: throwaway cluster stopped and removed");
    }
}
