//! The embedded cluster against the real PostgreSQL binaries.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use super::{Binaries, Cluster, ClusterOptions, ServerAccount};
use sqlx::{Connection, PgConnection};

/// A data directory under /tmp, which the `postgres` account can traverse. Dropping it
/// kills any server left by a failed test, so failures do not leak processes.
struct TempDataDir(PathBuf);

impl TempDataDir {
    fn new() -> Self {
        Self(PathBuf::from(format!(
            "/tmp/atende-cluster-test-{}",
            uuid::Uuid::new_v4().simple()
        )))
    }

    fn options(&self) -> ClusterOptions {
        ClusterOptions {
            data_dir: self.0.clone(),
            durable: false,
            database: "atende".into(),
        }
    }
}

impl Drop for TempDataDir {
    fn drop(&mut self) {
        let cluster_dir = self.0.join("postgres");
        if cluster_dir.join("postmaster.pid").exists() {
            let mut stop = std::process::Command::new(
                Binaries::locate()
                    .expect("binaries were found to start it")
                    .pg_ctl(),
            );
            stop.args(["stop", "-m", "immediate", "-D"])
                .arg(&cluster_dir)
                .current_dir("/");
            if let Some(account) =
                ServerAccount::for_cluster(&cluster_dir).expect("it ran as some account")
            {
                stop.uid(account.uid()).gid(account.gid());
            }
            let _ = stop.output();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn connect(cluster: &Cluster) -> PgConnection {
    PgConnection::connect(&cluster.database_url())
        .await
        .expect("the cluster accepts connections")
}

#[tokio::test]
async fn a_restarted_cluster_keeps_its_data() {
    let dir = TempDataDir::new();

    let first = Cluster::start_or_attach(dir.options()).await.unwrap();
    assert!(first.owns_server());
    let mut conn = connect(&first).await;
    sqlx::query("CREATE TABLE kept (note text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kept VALUES ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    first.stop().await.unwrap();

    let second = Cluster::start_or_attach(dir.options()).await.unwrap();
    assert!(second.owns_server());
    let mut conn = connect(&second).await;
    let note: String = sqlx::query_scalar("SELECT note FROM kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(note, "still here");
    conn.close().await.unwrap();
    second.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_start_attaches_to_the_running_server() {
    let dir = TempDataDir::new();

    let owner = Cluster::start_or_attach(dir.options()).await.unwrap();
    let attached = Cluster::start_or_attach(dir.options()).await.unwrap();
    assert!(owner.owns_server());
    assert!(!attached.owns_server());
    assert_eq!(attached.database_url(), owner.database_url());

    // Stopping an attached handle must leave the owner's server serving.
    attached.stop().await.unwrap();
    let mut conn = connect(&owner).await;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();
    owner.stop().await.unwrap();
}

#[tokio::test]
async fn simultaneous_starts_run_a_single_server() {
    let dir = TempDataDir::new();

    let (a, b) = tokio::join!(
        Cluster::start_or_attach(dir.options()),
        Cluster::start_or_attach(dir.options())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.owns_server() != b.owns_server(),
        "exactly one must own the server"
    );
    assert_eq!(a.port(), b.port());
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_start_reports_the_end_of_the_server_log() {
    let dir = TempDataDir::new();
    Cluster::start_or_attach(dir.options())
        .await
        .unwrap()
        .stop()
        .await
        .unwrap();
    let conf = dir.0.join("postgres").join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\nthis line is not a setting\n");
    std::fs::write(&conf, text).unwrap();

    let error = Cluster::start_or_attach(dir.options())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("syntax error"), "{error}");
}

#[tokio::test]
async fn clients_reach_the_cluster_over_its_unix_socket_and_an_attacher_does_too() {
    let dir = TempDataDir::new();
    let owner = Cluster::start_or_attach(dir.options()).await.unwrap();
    let socket_dir = owner
        .socket_dir()
        .expect("a short data directory holds the socket")
        .to_path_buf();
    assert!(socket_dir
        .join(format!(".s.PGSQL.{}", owner.port()))
        .exists());
    let mut conn = connect(&owner).await;
    // A Unix-socket session has no client address.
    let address: Option<String> = sqlx::query_scalar("SELECT inet_client_addr()::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(address, None, "{}", owner.database_url());

    let attached = Cluster::start_or_attach(dir.options()).await.unwrap();
    assert_eq!(attached.socket_dir(), Some(socket_dir.as_path()));
}

#[test]
fn a_directory_too_long_or_odd_for_a_socket_gets_none() {
    use super::control::socket_dir;
    use std::path::Path;
    assert!(socket_dir(Path::new("/tmp/atende/postgres"), 5432).is_some());
    assert!(socket_dir(Path::new(&format!("/tmp/{}", "d".repeat(90))), 5432).is_none());
    assert!(socket_dir(Path::new("/tmp/with space/postgres"), 5432).is_none());
    assert!(socket_dir(Path::new("relative/postgres"), 5432).is_none());
}
