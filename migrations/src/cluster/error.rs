//! Why the embedded cluster could not be started or reached.

use std::path::PathBuf;

/// Everything that can go wrong while starting, attaching to or stopping the embedded
/// cluster. Each message says what the operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries were found, so nothing can be started.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH nor in {searched}; \
         install them (`apt-get install postgresql`) or set DATABASE_URL to use an existing server instead"
    )]
    BinariesMissing {
        /// The directories that were searched besides PATH, for the message.
        searched: String,
    },

    /// PostgreSQL refuses to run as root and no unprivileged account exists to run it as.
    #[error(
        "running as root, but neither the `postgres` nor the `nobody` user exists to run PostgreSQL as; \
         create one (`apt-get install postgresql` does) or run atende as an unprivileged user"
    )]
    NoUnprivilegedUser,

    /// The unprivileged account PostgreSQL runs as cannot reach the cluster directory.
    #[error(
        "the `{user}` user (PostgreSQL refuses to run as root) cannot traverse {blocked}, \
         so it cannot reach the cluster in {cluster}; set ATENDE_DATA_DIR to a place it can reach \
         (e.g. under /var/lib or /tmp)"
    )]
    Unreachable {
        /// The account PostgreSQL runs as.
        user: String,
        /// The first ancestor directory it may not enter.
        blocked: PathBuf,
        /// The cluster directory it needed to reach.
        cluster: PathBuf,
    },

    /// The cluster exists but the superuser password that was generated with it is gone.
    #[error(
        "the cluster in {cluster} exists but its superuser password file {path} is missing; \
         restore it, or delete the cluster directory to start afresh (its data is lost)"
    )]
    PasswordMissing {
        /// Where the password should be.
        path: PathBuf,
        /// The cluster it belongs to.
        cluster: PathBuf,
    },

    /// A file system operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase.
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A PostgreSQL program could not be run or reported failure.
    #[error("{program} failed ({status}): {output}")]
    Command {
        /// The program and what it was asked to do, e.g. `initdb`.
        program: String,
        /// Its exit status, or why it could not be run.
        status: String,
        /// What it printed, trimmed.
        output: String,
    },

    /// `pg_ctl start` gave up; the server log says why.
    #[error("the PostgreSQL server did not start: {output}\nlast lines of {}:\n{log_tail}", log.display())]
    StartFailed {
        /// What pg_ctl printed.
        output: String,
        /// The server log.
        log: PathBuf,
        /// The end of what the server logged during this attempt.
        log_tail: String,
    },

    /// The server runs but its `postmaster.pid` does not say on which port.
    #[error("cannot tell the port of the running server from {}: {reason}", path.display())]
    PidFile {
        /// The pid file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },

    /// The server did not accept the connection or a statement.
    #[error("could not {action}: {source}")]
    Database {
        /// What was being done, as a verb phrase.
        action: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
}

impl ClusterError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
