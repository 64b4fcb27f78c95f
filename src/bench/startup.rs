//! `atende bench startup`: how long `atende serve` takes from launch to a healthy `/health`,
//! first on a new data directory (the embedded cluster is created), then on the one that
//! start left behind (an ordinary restart), and how much memory it holds once idle.

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Settings of `atende bench startup`.
#[derive(Debug, Clone, Args)]
pub struct StartupArgs {
    /// Starts on the existing data directory.
    #[arg(long, default_value_t = 3)]
    pub restarts: u32,
    /// Seconds `serve` sits idle, healthy, before its memory is read.
    #[arg(long, default_value_t = 10)]
    pub idle_seconds: u64,
}

/// One start of `serve`.
struct Start {
    healthy_after: Duration,
    idle_rss: u64,
}

/// Starts this same binary as `serve` on a scratch data directory, times it, prints Markdown.
pub async fn run(args: StartupArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!(
        "atende-bench-startup-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let result = starts(&exe, &dir, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (first, restarts) = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench startup (`serve` with every part, idle {} s before reading its RSS; load average {})\n",
            args.idle_seconds,
            load_average()
        );
        println!("| start | launch → /health 200, s | idle RSS of `serve`, MB |");
        println!("|---|---:|---:|");
        let row = |what: &str, s: &Start| {
            println!(
                "| {what} | {:.2} | {:.1} |",
                s.healthy_after.as_secs_f64(),
                super::memory::mb(s.idle_rss)
            );
        };
        row("new data directory (cluster created)", &first);
        for (i, s) in restarts.iter().enumerate() {
            row(&format!("existing data directory, restart {}", i + 1), s);
        }
    }
    Ok(())
}

async fn starts(exe: &Path, dir: &Path, args: &StartupArgs) -> anyhow::Result<(Start, Vec<Start>)> {
    let first = start(exe, dir, args).await?;
    let mut restarts = Vec::new();
    for _ in 0..args.restarts {
        restarts.push(start(exe, dir, args).await?);
    }
    Ok((first, restarts))
}

/// Launches `serve` on `dir`, waits for a healthy `/health`, idles, reads its RSS, stops it
/// as an operator would (SIGTERM) and waits for it to exit.
async fn start(exe: &Path, dir: &Path, args: &StartupArgs) -> anyhow::Result<Start> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let launched = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("ATENDE_DATA_DIR", dir)
        .env("ATENDE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .env_remove("ATENDE_MASTER_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("serve exited at once"))?;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/health");
    let healthy_after = loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("serve exited with {status} before it was healthy");
        }
        let ok = client
            .get(&url)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break launched.elapsed();
        }
        anyhow::ensure!(
            launched.elapsed() < Duration::from_secs(120),
            "serve was not healthy within two minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let idle_rss = rss_of(pid).unwrap_or(0);
    // SIGTERM, as an operator's `kill` or a service manager stops it.
    let stopped = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    anyhow::ensure!(stopped.success(), "kill -TERM {pid} failed");
    tokio::time::timeout(Duration::from_secs(60), child.wait()).await??;
    Ok(Start {
        healthy_after,
        idle_rss,
    })
}

fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
