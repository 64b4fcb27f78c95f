//! Graceful shutdown (issue 19) as an operator meets it: the real `atende serve` and
//! `atende worker` binaries, sent SIGTERM.

use migrations::cluster::{Binaries, Cluster, ClusterOptions, ServerAccount};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use stream::{CheckpointStore, Tail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The grace the processes under test are given.
const GRACE: Duration = Duration::from_secs(10);
/// What stopping the embedded PostgreSQL may add to it.
const CLUSTER_STOP: Duration = Duration::from_secs(10);

/// A data directory under /tmp (the `postgres` account can traverse it). Dropping it kills
/// a server a failed test left running, then deletes the directory.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let dir = PathBuf::from(format!(
            "/tmp/atende-shutdown-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn cluster_running(&self) -> bool {
        self.0.join("postgres/postmaster.pid").exists()
    }

    /// The test's own handle on the embedded cluster: attached to the one `serve` runs, or
    /// started (and owned) when none runs.
    async fn cluster(&self) -> Cluster {
        Cluster::start_or_attach(ClusterOptions {
            data_dir: self.0.clone(),
            durable: true,
            database: "atende".into(),
        })
        .await
        .expect("the embedded cluster")
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let cluster_dir = self.0.join("postgres");
        if self.cluster_running() {
            let mut stop = std::process::Command::new(
                Binaries::locate()
                    .expect("binaries were found to start it")
                    .pg_ctl(),
            );
            stop.args(["stop", "-m", "immediate", "-D"])
                .arg(&cluster_dir)
                .current_dir("/");
            if let Ok(Some(account)) = ServerAccount::for_cluster(&cluster_dir) {
                stop.uid(account.uid()).gid(account.gid());
            }
            let _ = stop.output();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `atende <args>` on `dir`'s data (and on `database_url` when given, the embedded cluster
/// otherwise), killed if the test drops it.
fn atende(dir: &DataDir, database_url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atende"));
    cmd.args(args)
        .env("ATENDE_DATA_DIR", dir.path())
        .env("ATENDE_SHUTDOWN_GRACE_SECS", GRACE.as_secs().to_string())
        .env("ATENDE_TAIL_POLL_MS", "20")
        .env("ATENDE_LOG_FORMAT", "pretty")
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("KAFKA_BROKERS")
        .kill_on_drop(true);
    match database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    cmd
}

/// A platform admin made with `atende admin create`: their e-mail and password.
async fn admin_created(dir: &DataDir, database_url: Option<&str>, email: &str) -> String {
    let out = atende(
        dir,
        database_url,
        &["admin", "create", "--email", email, "--role", "super_admin"],
    )
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    created["password"].as_str().unwrap().to_owned()
}

/// A running `atende serve`, its log going to a file.
struct Serving {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Serving {
    async fn start(dir: &DataDir, log_name: &str) -> Self {
        let log = dir.path().join(log_name);
        let mut child = atende(dir, None, &["serve"])
            .env("ATENDE_HTTP_ADDR", "127.0.0.1:0")
            .env(
                "ATENDE_JWT_SECRET",
                "a-test-secret-of-at-least-32-bytes-long",
            )
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(90), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("serve did not start: {}", read(&log)))
            .unwrap()
            .unwrap_or_else(|| panic!("serve exited: {}", read(&log)));
        let address = line
            .strip_prefix("atende listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self {
            child,
            address,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    fn socket(&self) -> String {
        self.address.trim_start_matches("http://").to_owned()
    }
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

fn terminate(child: &Child) {
    let pid = i32::try_from(child.id().expect("the process runs")).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
}

/// Waits for the process to exit, at most `within`.
async fn exited(child: &mut Child, within: Duration, log: &Path) -> ExitStatus {
    tokio::time::timeout(within, child.wait())
        .await
        .unwrap_or_else(|_| panic!("still running after {within:?}: {}", read(log)))
        .unwrap()
}

/// Polls `/health` at `url` until every consumer is at the head, and returns the report.
async fn caught_up(client: &reqwest::Client, url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(resp) = client.get(url).send().await {
            let health: Value = resp.json().await.unwrap_or_default();
            let consumers = health["consumers"].as_array().cloned().unwrap_or_default();
            if !consumers.is_empty() && consumers.iter().all(|c| c["lag_events"] == 0) {
                return health;
            }
        }
        assert!(Instant::now() < deadline, "consumers never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every stored checkpoint with the number of events after it.
async fn stored_lags(pool: &PgPool) -> Vec<(String, i64)> {
    let tail = Tail::new(pool.clone());
    let mut lags = Vec::new();
    for (consumer, at) in CheckpointStore::new(pool.clone()).all().await.unwrap() {
        lags.push((consumer, tail.lag(at, 1_000_000).await.unwrap()));
    }
    lags
}

async fn pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .unwrap()
}

#[tokio::test]
async fn sigterm_lets_serve_finish_its_requests_and_batches_then_exit_zero_with_postgres_stopped() {
    let dir = DataDir::new();
    let password = admin_created(&dir, None, "root@shutdown.example").await;
    assert!(
        !dir.cluster_running(),
        "the admin command stops the cluster it started"
    );
    let serve = Serving::start(&dir, "serve.log").await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let login: Value = client
        .post(serve.url("/api/v1/auth/login"))
        .json(&json!({"email": "root@shutdown.example", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    for n in 0..3 {
        let created = client
            .post(serve.url("/api/v1/admin/tenants"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Loja {n}"), "owner_email": format!("dono{n}@loja.example"), "plan": "pro"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    caught_up(&client, &serve.url("/health")).await;

    // A console listening to the live stream, and a request held in flight by a lock the
    // test takes on the table it reads.
    let mut live = client
        .get(serve.url("/api/v1/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let cluster = dir.cluster().await;
    assert!(
        !cluster.owns_server(),
        "the test attached to serve's cluster"
    );
    let db = pool(&cluster.database_url()).await;
    let mut lock = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE tenant_directory IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let in_flight = tokio::spawn(
        client
            .get(serve.url("/api/v1/admin/tenants"))
            .bearer_auth(&token)
            .send(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%tenant_directory%'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request never reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut serve = serve;
    terminate(&serve.child);
    let signalled = Instant::now();
    // The stream ends cleanly (the body is complete, not cut).
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(_chunk) = live.chunk().await? {}
        Ok::<_, reqwest::Error>(())
    })
    .await;
    assert!(
        matches!(ended, Ok(Ok(()))),
        "the live stream did not end cleanly: {ended:?}"
    );
    // No new connection is taken, while the request in flight still runs.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::net::TcpStream::connect(serve.socket()).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {
                assert!(Instant::now() < deadline, "connections still accepted");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "serve exited with a request in flight"
    );
    assert!(!in_flight.is_finished());
    lock.rollback().await.unwrap();
    db.close().await;
    let answered = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answered.status(), 200);
    let listed: Value = answered.json().await.unwrap();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );

    let status = exited(&mut serve.child, GRACE + CLUSTER_STOP, &serve.log).await;
    let log = read(&serve.log);
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(signalled.elapsed() < GRACE + CLUSTER_STOP);
    assert!(
        !dir.cluster_running(),
        "the embedded PostgreSQL is stopped: {log}"
    );
    for step in [
        "shutting down",
        "no longer accepting connections",
        "background parts stopped",
        "stopped the embedded PostgreSQL",
        "atende stopped",
    ] {
        assert!(log.contains(step), "{step:?} is logged: {log}");
    }

    // Every consumer's stored checkpoint is the head: nothing is read again on restart.
    let cluster = dir.cluster().await;
    assert!(cluster.owns_server());
    let db = pool(&cluster.database_url()).await;
    let lags = stored_lags(&db).await;
    assert!(lags.len() > 5, "{lags:?}");
    assert!(lags.iter().all(|(_, lag)| *lag == 0), "{lags:?}");
    db.close().await;
    cluster.stop().await.unwrap();

    // Restarted, no consumer applies anything again.
    let mut serve = Serving::start(&dir, "restarted.log").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let health = caught_up(&client, &serve.url("/health")).await;
    let reapplied: Vec<&Value> = health["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["applied"] != 0)
        .collect();
    assert!(reapplied.is_empty(), "applied again: {reapplied:?}");
    terminate(&serve.child);
    let status = exited(&mut serve.child, GRACE + CLUSTER_STOP, &serve.log).await;
    assert_eq!(status.code(), Some(0), "{}", read(&serve.log));
}

#[tokio::test]
async fn sigterm_stops_a_worker_with_every_checkpoint_at_the_head_and_exit_zero() {
    let db = testkit::test_database().await.unwrap();
    let dir = DataDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("worker.log");
    let mut worker = atende(&dir, Some(&db.url), &["worker", "--only", "projections"])
        .env("ATENDE_WORKER_ADDR", format!("127.0.0.1:{port}"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/health");
    caught_up(&client, &health).await;
    // Events most projections do not want: they read past them without a transaction,
    // and must still store that position when stopped.
    admin_created(&dir, Some(&db.url), "root@worker.example").await;
    admin_created(&dir, Some(&db.url), "ops@worker.example").await;
    caught_up(&client, &health).await;
    terminate(&worker);
    let status = exited(&mut worker, GRACE, &log).await;
    assert_eq!(status.code(), Some(0), "{}", read(&log));
    let lags = stored_lags(&db.pool).await;
    assert!(lags.len() > 5, "{lags:?}");
    assert!(lags.iter().all(|(_, lag)| *lag == 0), "{lags:?}");
    assert!(read(&log).contains("atende worker stopped"));
}
