//! The one cluster of a test run, shared by every test process of that run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use migrations::cluster::{quote_ident, Cluster, ClusterOptions};
use sqlx::{Connection, Executor, PgConnection};

use crate::reaper;

/// The database every test database is copied from.
pub const TEMPLATE: &str = "atende_template";

/// Run directories live directly in /tmp: short paths, and reachable by the `postgres`
/// account when the tests run as root.
const PARENT: &str = "/tmp";
const PREFIX: &str = "atende-test-";
/// Present once the template holds every migration; checked under the run lock.
const READY_FILE: &str = "template.ready";

/// Identifies this run: nextest's id, shared by all the processes of one invocation, or
/// this process, which is the whole run under plain `cargo test`.
fn run_id() -> String {
    std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| format!("pid-{}", std::process::id()))
}

/// The process whose end is the end of the run: nextest itself (each test is its child),
/// or this process.
fn watched_pid() -> u32 {
    if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        std::os::unix::process::parent_id()
    } else {
        std::process::id()
    }
}

/// Starts the run's cluster and template, or attaches to those another test process of
/// the run started.
#[tracing::instrument(name = "Set up the test run's cluster", skip_all)]
pub(crate) async fn shared_cluster() -> anyhow::Result<Cluster> {
    let dir = PathBuf::from(PARENT).join(format!("{PREFIX}{}", run_id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    // A restrictive umask would otherwise shut the server account out.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("could not open up {}", dir.display()))?;
    reaper::sweep_stale(Path::new(PARENT), PREFIX, &dir);

    let _lock = lock(dir.join("testkit.lock")).await?;
    if !dir.join(reaper::WATCH_FILE).exists() {
        // Before the start, so that a crash during it still leaves nothing behind.
        let watch = watched_pid();
        reaper::spawn(&dir, Some(watch))?;
        write_atomically(&dir.join(reaper::WATCH_FILE), &watch.to_string())?;
    }
    let options = ClusterOptions {
        data_dir: dir.clone(),
        durable: false,
        database: TEMPLATE.into(),
    };
    let cluster = Cluster::start_or_attach(options)
        .await
        .context("could not start the test cluster")?;
    if !dir.join(READY_FILE).exists() {
        migrate_template(&cluster).await?;
        write_atomically(&dir.join(READY_FILE), "")?;
    }
    tracing::debug!(?cluster, "the test run's cluster is ready");
    Ok(cluster)
}

/// Applies the migrations once per run, then closes the template to connections: a
/// database cannot be copied while anyone is connected to it.
async fn migrate_template(cluster: &Cluster) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(&cluster.url_for(TEMPLATE)).await?;
    migrations::MIGRATOR
        .run_direct(&mut conn)
        .await
        .context("could not migrate the template database")?;
    conn.close().await?;
    let mut admin = PgConnection::connect(&cluster.url_for("postgres")).await?;
    let template = quote_ident(TEMPLATE);
    admin
        .execute(
            format!("ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
                .as_str(),
        )
        .await?;
    admin.close().await?;
    Ok(())
}

/// Readers in other processes must never see a half-written file.
fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let partial = path.with_extension(format!("partial.{}", std::process::id()));
    std::fs::write(&partial, contents)
        .with_context(|| format!("could not write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("could not write {}", path.display()))
}

/// Serialises the set-up across the run's processes; blocking, so off the async threads.
async fn lock(path: PathBuf) -> anyhow::Result<std::fs::File> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("could not open {}", path.display()))?;
        fs4::fs_std::FileExt::lock_exclusive(&file)
            .with_context(|| format!("could not lock {}", path.display()))?;
        Ok(file)
    })
    .await?
}
