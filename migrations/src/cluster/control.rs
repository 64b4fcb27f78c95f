//! Running initdb and pg_ctl against one cluster directory.

use std::ffi::OsStr;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use super::{Binaries, ClusterError, ServerAccount};

/// How many times a start is retried when the port picked was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;
/// Enough of the log to show the cause of a failed start without flooding the error.
const LOG_TAIL_LINES: usize = 30;

/// The programs, the account they run as and the cluster they act on.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub(crate) binaries: Binaries,
    pub(crate) account: Option<ServerAccount>,
    pub(crate) cluster_dir: PathBuf,
}

impl Control {
    async fn run<I, S>(&self, program: &Path, args: I) -> Result<Output, ClusterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(account) = &self.account {
            account.apply(&mut command);
        }
        command.output().await.map_err(|e| ClusterError::Command {
            program: program.display().to_string(),
            status: "could not be run".into(),
            output: e.to_string(),
        })
    }

    async fn run_checked<I, S>(
        &self,
        program: &Path,
        args: I,
        what: &str,
    ) -> Result<Output, ClusterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self.run(program, args).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(ClusterError::Command {
                program: what.to_owned(),
                status: output.status.to_string(),
                output: printed(&output),
            })
        }
    }

    /// Creates the cluster with `atende` as its superuser.
    #[tracing::instrument(name = "Create the cluster with initdb", skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub(crate) async fn initdb(&self, pwfile: &Path) -> Result<(), ClusterError> {
        let pwfile = format!("--pwfile={}", pwfile.display());
        let args: [&OsStr; 10] = [
            "-D".as_ref(),
            self.cluster_dir.as_os_str(),
            "--username=atende".as_ref(),
            pwfile.as_ref(),
            "--auth-local=scram-sha-256".as_ref(),
            "--auth-host=scram-sha-256".as_ref(),
            "--encoding=UTF8".as_ref(),
            "--locale=C".as_ref(),
            // The cluster is ours alone; skipping the fsync of every new file saves seconds.
            "--no-sync".as_ref(),
            "--no-instructions".as_ref(),
        ];
        self.run_checked(self.binaries.initdb(), args, "initdb")
            .await
            .map(drop)
    }

    /// Whether a live server already serves this cluster.
    pub(crate) async fn is_running(&self) -> Result<bool, ClusterError> {
        let output = self
            .run(
                self.binaries.pg_ctl(),
                [
                    OsStr::new("status"),
                    OsStr::new("-D"),
                    self.cluster_dir.as_os_str(),
                ],
            )
            .await?;
        // pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        match output.status.code() {
            Some(0) => Ok(true),
            Some(3) | Some(4) => Ok(false),
            _ => Err(ClusterError::Command {
                program: "pg_ctl status".into(),
                status: output.status.to_string(),
                output: printed(&output),
            }),
        }
    }

    /// Starts the server on a free loopback port and returns that port.
    #[tracing::instrument(name = "Start the PostgreSQL server", skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub(crate) async fn start(&self, log: &Path, durable: bool) -> Result<u16, ClusterError> {
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            let log_start = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
            let options = server_options(port, durable, socket_dir(&self.cluster_dir, port));
            let args: [&OsStr; 11] = [
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                self.cluster_dir.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-s".as_ref(),
            ];
            let output = self.run(self.binaries.pg_ctl(), args).await?;
            if output.status.success() {
                tracing::info!(port, "the PostgreSQL server started");
                return Ok(port);
            }
            let log_tail = log_tail(log, log_start);
            if attempt < PORT_ATTEMPTS && port_was_taken(&log_tail) {
                tracing::warn!(
                    port,
                    attempt,
                    "the port was taken before the server could bind it; retrying"
                );
                attempt += 1;
                continue;
            }
            return Err(ClusterError::StartFailed {
                output: printed(&output),
                log: log.to_path_buf(),
                log_tail,
            });
        }
    }

    /// Stops the server, letting sessions roll back rather than waiting for clients.
    #[tracing::instrument(name = "Stop the PostgreSQL server", skip_all, fields(cluster = %self.cluster_dir.display()))]
    pub(crate) async fn stop(&self) -> Result<(), ClusterError> {
        let args = [
            OsStr::new("stop"),
            "-m".as_ref(),
            "fast".as_ref(),
            "-w".as_ref(),
            "-D".as_ref(),
            self.cluster_dir.as_os_str(),
        ];
        self.run_checked(self.binaries.pg_ctl(), args, "pg_ctl stop")
            .await
            .map(drop)
    }

    /// The Unix socket directory of the running server, if it listens on one: line 5 of
    /// `postmaster.pid`.
    pub(crate) fn running_socket_dir(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(self.cluster_dir.join("postmaster.pid")).ok()?;
        let dir = text.lines().nth(4)?.trim();
        (!dir.is_empty()).then(|| PathBuf::from(dir))
    }

    /// The port of the running server: line 4 of `postmaster.pid`, which the server writes
    /// itself, so no second record can go stale.
    pub(crate) fn running_port(&self) -> Result<u16, ClusterError> {
        let path = self.cluster_dir.join("postmaster.pid");
        let text = std::fs::read_to_string(&path).map_err(ClusterError::io("read", &path))?;
        parse_port(&text).ok_or_else(|| ClusterError::PidFile {
            path,
            reason: "line 4 holds no port".into(),
        })
    }
}

/// The server also listens on a Unix socket in the cluster directory when its path fits
/// (socket paths are limited to ~100 bytes) and needs no quoting: local clients then skip
/// the loopback TCP stack, which costs as much CPU as the queries themselves under load.
/// Otherwise everything goes over loopback TCP.
fn server_options(port: u16, durable: bool, socket_dir: Option<&Path>) -> String {
    let sockets = socket_dir.map_or(String::new(), |d| d.display().to_string());
    let mut options = format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{sockets}' -c max_connections=200"
    );
    if !durable {
        options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
    }
    options
}

/// The directory for the server's Unix socket, when `dir` can hold it.
pub(crate) fn socket_dir(dir: &Path, port: u16) -> Option<&Path> {
    let text = dir.to_str()?;
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'));
    // `sun_path` holds 108 bytes with the terminating NUL.
    let fits = format!("{text}/.s.PGSQL.{port}.lock").len() < 100;
    (plain && fits && dir.is_absolute()).then_some(dir)
}

/// A port free right now; another process may still take it before the server binds it,
/// hence the retries in [`Control::start`].
fn free_port() -> Result<u16, ClusterError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(ClusterError::io("find a free port on", "127.0.0.1"))
}

fn port_was_taken(log_tail: &str) -> bool {
    log_tail.contains("could not bind") || log_tail.contains("Address already in use")
}

fn parse_port(pid_file: &str) -> Option<u16> {
    pid_file.lines().nth(3)?.trim().parse().ok()
}

/// The last lines the server logged since `from`, so an old failure is not blamed.
fn log_tail(log: &Path, from: u64) -> String {
    let mut text = String::new();
    let read = std::fs::File::open(log).and_then(|mut file| {
        file.seek(SeekFrom::Start(from))?;
        file.read_to_string(&mut text)
    });
    if let Err(e) = read {
        return format!("(could not read the log: {e})");
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

fn printed(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stderr.trim());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_fourth_line_of_the_pid_file() {
        let pid_file = "9124\n/tmp/pg\n1795318841\n54999\n\n127.0.0.1\n 10010946 4\nready   \n";
        assert_eq!(parse_port(pid_file), Some(54999));
        assert_eq!(parse_port("9124\n/tmp/pg\n"), None);
    }

    #[test]
    fn test_clusters_trade_durability_for_speed() {
        assert!(server_options(5432, false, None).contains("fsync=off"));
        assert!(!server_options(5432, true, None).contains("fsync=off"));
        assert!(server_options(5432, true, None).contains("max_connections=200"));
    }

    #[test]
    fn the_server_listens_on_a_socket_only_where_one_fits() {
        assert!(server_options(5432, true, None).contains("unix_socket_directories=''"));
        let with = server_options(5432, true, Some(Path::new("/tmp/c/postgres")));
        assert!(
            with.contains("unix_socket_directories='/tmp/c/postgres'"),
            "{with}"
        );
    }

    #[test]
    fn a_bind_failure_is_recognised_as_a_taken_port() {
        assert!(port_was_taken(
            "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use"
        ));
        assert!(!port_was_taken(
            "FATAL:  data directory has wrong ownership"
        ));
    }
}
