//! The embedded PostgreSQL cluster: atende keeps its own server inside its data directory
//! so that running it needs no database administration, only the PostgreSQL packages.
//!
//! Several atende processes may share one data directory (`serve` next to `migrate`, or
//! tests), so the first one starts the server and the others attach to it; a file lock
//! makes "is it running? else start it" atomic across processes. The port is picked at
//! each start rather than fixed, so that clusters of several data directories (one per
//! test run, say) never collide, and it is found again in the server's own
//! `postmaster.pid`.

mod account;
mod binaries;
mod control;
mod database;
mod error;
#[cfg(test)]
mod live_tests;
mod secret;

use std::fmt;
use std::path::{Path, PathBuf};

pub use account::ServerAccount;
pub use binaries::Binaries;
pub use database::quote_ident;
pub use error::ClusterError;

use control::Control;

/// The name of the superuser created by initdb.
pub const SUPERUSER: &str = "atende";

/// What cluster to run and how.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The application's data directory (`ATENDE_DATA_DIR`); the cluster lives in its
    /// `postgres` subdirectory, next to `postgres.password`, `postgres.log` and
    /// `postgres.lock`.
    pub data_dir: PathBuf,
    /// `false` turns off fsync, synchronous commit and full-page writes: a crash may then
    /// corrupt the cluster, which is fine only for throw-away test data.
    pub durable: bool,
    /// The database to create if missing, e.g. `atende`.
    pub database: String,
}

/// A running cluster, started by this process or attached to.
pub struct Cluster {
    control: Control,
    port: u16,
    socket_dir: Option<PathBuf>,
    password: String,
    database: String,
    owns_server: bool,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("cluster_dir", &self.control.cluster_dir)
            .field("port", &self.port)
            .field("socket_dir", &self.socket_dir)
            .field("database", &self.database)
            .field("owns_server", &self.owns_server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Attaches to the server a running atende already started for this data directory,
    /// or starts it, creating the cluster on first run. A running server keeps the
    /// settings it was started with, whatever `opts.durable` says.
    pub async fn start_or_attach(opts: ClusterOptions) -> Result<Cluster, ClusterError> {
        Self::start_or_attach_with(opts, Binaries::locate()?).await
    }

    /// [`Cluster::start_or_attach`] with given server programs.
    #[tracing::instrument(name = "Start or attach to the embedded PostgreSQL cluster", skip_all, fields(data_dir = %opts.data_dir.display()))]
    pub async fn start_or_attach_with(
        opts: ClusterOptions,
        binaries: Binaries,
    ) -> Result<Cluster, ClusterError> {
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(ClusterError::io("create", &opts.data_dir))?;
        // Absolute, because the programs run from `/` when they run as another account.
        let data_dir = std::fs::canonicalize(&opts.data_dir)
            .map_err(ClusterError::io("resolve", &opts.data_dir))?;
        let _lock = lock(data_dir.join("postgres.lock")).await?;

        let cluster_dir = data_dir.join("postgres");
        let account = ServerAccount::for_cluster(&cluster_dir)?;
        if let Some(account) = &account {
            account.check_can_reach(&cluster_dir)?;
        }
        let control = Control {
            binaries,
            account,
            cluster_dir,
        };
        let password = password(&control, &data_dir).await?;

        let (port, owns_server) = if control.is_running().await? {
            let port = control.running_port()?;
            tracing::info!(port, "attached to the PostgreSQL server already running");
            (port, false)
        } else {
            let log = data_dir.join("postgres.log");
            ensure_owned_file(&control, &log)?;
            (control.start(&log, opts.durable).await?, true)
        };

        let socket_dir = control.running_socket_dir();
        let cluster = Cluster {
            control,
            port,
            socket_dir,
            password,
            database: opts.database,
            owns_server,
        };
        let created =
            database::ensure_exists(&cluster.url_for("postgres"), &cluster.database).await;
        if let Err(e) = created {
            // A server we just started and cannot use would otherwise linger unowned.
            if cluster.owns_server {
                let _ = cluster.control.stop().await;
            }
            return Err(e);
        }
        Ok(cluster)
    }

    /// The connection URL of the application database.
    pub fn database_url(&self) -> String {
        self.url_for(&self.database)
    }

    /// The connection URL of `database` in this cluster, as the superuser.
    pub fn url_for(&self, database: &str) -> String {
        let url = format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{}",
            self.password,
            self.port,
            encode_path(database)
        );
        match &self.socket_dir {
            // libpq and sqlx read a `host` starting with `/` as the socket's directory.
            Some(dir) => format!("{url}?host={}", encode_path(&dir.display().to_string())),
            None => url,
        }
    }

    /// The directory of the server's Unix socket, when it listens on one.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.socket_dir.as_deref()
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster directory (`<data_dir>/postgres`).
    pub fn cluster_dir(&self) -> &Path {
        &self.control.cluster_dir
    }

    /// The programs the server is controlled with.
    pub fn binaries(&self) -> &Binaries {
        &self.control.binaries
    }

    /// The account the server runs as, when this process is root.
    pub fn account(&self) -> Option<&ServerAccount> {
        self.control.account.as_ref()
    }

    /// Whether this process started the server (rather than attaching to it).
    pub fn owns_server(&self) -> bool {
        self.owns_server
    }

    /// Stops the server if this process started it; an attached process leaves it to its
    /// owner, who may still be serving.
    pub async fn stop(self) -> Result<(), ClusterError> {
        if self.owns_server {
            self.control.stop().await
        } else {
            Ok(())
        }
    }
}

/// The superuser's password, creating the cluster with a fresh one on first run.
async fn password(control: &Control, data_dir: &Path) -> Result<String, ClusterError> {
    let password_file = data_dir.join("postgres.password");
    if !control.cluster_dir.join("PG_VERSION").exists() {
        return initialise(control, data_dir, &password_file).await;
    }
    secret::read(&password_file)?.ok_or_else(|| ClusterError::PasswordMissing {
        path: password_file,
        cluster: control.cluster_dir.clone(),
    })
}

/// Runs initdb with a fresh password, stored root-only for us; the server account gets
/// its own short-lived copy, since initdb runs as that account.
async fn initialise(
    control: &Control,
    data_dir: &Path,
    password_file: &Path,
) -> Result<String, ClusterError> {
    let password = secret::generate();
    secret::write_private(password_file, &password)?;
    let dir = &control.cluster_dir;
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(ClusterError::io("create", dir)(e))
        }
        _ => {}
    }
    let Some(account) = &control.account else {
        control.initdb(password_file).await?;
        return Ok(password);
    };
    account.chown(dir)?;
    let pwfile = data_dir.join(format!("postgres.password.{}", account.name()));
    secret::write_private(&pwfile, &password)?;
    let result = match account.chown(&pwfile) {
        Ok(()) => control.initdb(&pwfile).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&pwfile);
    result.map(|()| password)
}

/// The server writes its log through pg_ctl as the server account, which may not create
/// files in the data directory.
fn ensure_owned_file(control: &Control, path: &Path) -> Result<(), ClusterError> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(ClusterError::io("create", path))?;
    match &control.account {
        Some(account) => account.chown(path),
        None => Ok(()),
    }
}

/// Holds an exclusive lock on `path` until dropped; taken off the async threads because
/// it blocks while another process starts the server.
async fn lock(path: PathBuf) -> Result<std::fs::File, ClusterError> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(ClusterError::io("open", &path))?;
        fs4::fs_std::FileExt::lock_exclusive(&file).map_err(ClusterError::io("lock", &path))?;
        Ok(file)
    })
    .await
    .map_err(|e| ClusterError::Io {
        action: "wait for the lock",
        path: PathBuf::new(),
        source: std::io::Error::other(e),
    })?
}

/// Percent-encodes a database name for the URL path; plain names pass unchanged.
fn encode_path(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_and_stopping_can_be_spawned_on_any_runtime_thread() {
        fn assert_send<T: Send>(_: T) {}
        let opts = ClusterOptions {
            data_dir: "/nonexistent".into(),
            durable: false,
            database: "atende".into(),
        };
        assert_send(Cluster::start_or_attach(opts));
        let _ = |cluster: Cluster| assert_send(cluster.stop());
    }

    #[test]
    fn database_names_are_percent_encoded_in_urls() {
        assert_eq!(encode_path("atende_template"), "atende_template");
        assert_eq!(encode_path("a b/c"), "a%20b%2Fc");
    }
}
