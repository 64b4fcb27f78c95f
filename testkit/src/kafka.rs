//! A real Kafka-protocol broker for tests: tansu with memory storage on a free port.
//!
//! The binary comes from `cargo install --locked tansu --features dynostore` (`.ci/run`
//! installs it); `TANSU_BIN` overrides where it is looked for. A test that needs a broker
//! fails when there is none: it never skips.

use anyhow::Context;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A running tansu broker, killed when dropped.
#[derive(Debug)]
pub struct Tansu {
    port: u16,
    child: Option<Child>,
}

fn binary() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("TANSU_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(bin) = home.map(|h| h.join("bin").join("tansu")) {
        if bin.exists() {
            return Ok(bin);
        }
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("tansu"))
        .find(|b| b.exists());
    on_path.context(
        "tansu is not installed: run `cargo install --locked tansu --features dynostore` \
         (or set TANSU_BIN)",
    )
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Tansu {
    /// Starts a broker with memory storage on a free port and waits until it accepts
    /// connections.
    pub async fn start() -> anyhow::Result<Self> {
        let mut broker = Self {
            port: free_port()?,
            child: None,
        };
        broker.launch().await?;
        Ok(broker)
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (its memory storage goes with it), as an outage would.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts the broker again on the same port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.launch().await
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new(binary()?)
            .arg("broker")
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting tansu")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                anyhow::bail!("tansu exited at start: {status}");
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "tansu did not listen within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
