//! Making sure a test run's cluster dies with the run.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use migrations::cluster::{Binaries, ServerAccount};
use nix::errno::Errno;
use nix::unistd::Pid;

/// Where a run directory records the process whose death ends the run.
pub(crate) const WATCH_FILE: &str = "watch.pid";
/// Marks a directory whose reaper was already spawned, so that every test process of a
/// later run does not spawn another one for the same leftovers.
const REAPING_FILE: &str = "reaping";
/// A run directory without a watch file is only a leftover once it is this old: a
/// younger one may belong to a run that is still writing it.
const UNWATCHED_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Waits for the watched process to end, then kills the server and deletes the
/// directory. Everything is an argument so that no path needs shell quoting.
const SCRIPT: &str = r#"watch=$1 dir=$2 pgdata=$3
shift 3
cd / || exit 1
if [ -n "$watch" ]; then
    while kill -0 "$watch" 2>/dev/null; do sleep 1; done
fi
if [ -f "$pgdata/postmaster.pid" ]; then "$@" stop -m immediate -w -D "$pgdata"; fi
rm -rf "$dir""#;

/// Spawns the reaper of `run_dir`, which outlives this process (and nextest's signals
/// to its process group) in a group of its own. `watch` `None` reaps at once.
pub(crate) fn spawn(run_dir: &Path, watch: Option<u32>) -> anyhow::Result<()> {
    let pgdata = run_dir.join("postgres");
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(SCRIPT)
        .arg("atende-test-reaper")
        .arg(watch.map(|pid| pid.to_string()).unwrap_or_default())
        .arg(run_dir)
        .arg(&pgdata)
        .args(pg_ctl_command(&pgdata)?)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    command
        .spawn()
        .context("could not spawn the test cluster's reaper")?;
    tracing::debug!(run_dir = %run_dir.display(), ?watch, "spawned the test cluster's reaper");
    Ok(())
}

/// pg_ctl, behind whatever drops root to the server's account: the reaper itself stays
/// root to delete the root-owned run directory.
fn pg_ctl_command(pgdata: &Path) -> anyhow::Result<Vec<OsString>> {
    let pg_ctl = Binaries::locate()?.pg_ctl().as_os_str().to_owned();
    let Some(account) = ServerAccount::for_cluster(pgdata)? else {
        return Ok(vec![pg_ctl]);
    };
    if let Some(runuser) = find_program("runuser") {
        return Ok(vec![
            runuser.into(),
            "-u".into(),
            account.name().into(),
            "--".into(),
            pg_ctl,
        ]);
    }
    let setpriv = find_program("setpriv")
        .context("neither runuser nor setpriv is installed (package util-linux)")?;
    Ok(vec![
        setpriv.into(),
        format!("--reuid={}", account.uid()).into(),
        format!("--regid={}", account.gid()).into(),
        "--clear-groups".into(),
        pg_ctl,
    ])
}

/// Looks on PATH and in the sbin directories, which a non-login root PATH may lack.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Reaps the run directories under `parent` left by runs whose watched process is gone,
/// e.g. because the machine restarted under a reaper.
pub(crate) fn sweep_stale(parent: &Path, prefix: &str, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_run_dir = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(prefix));
        if !is_run_dir || dir == ours || !is_stale(&dir) {
            continue;
        }
        let claimed = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(REAPING_FILE));
        if claimed.is_err() {
            continue;
        }
        tracing::info!(dir = %dir.display(), "reaping a test cluster left by an earlier run");
        if let Err(e) = spawn(&dir, None) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not reap a stale test cluster");
        }
    }
}

fn is_stale(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join(WATCH_FILE)) {
        Ok(text) => text.trim().parse::<i32>().is_ok_and(|pid| !is_alive(pid)),
        Err(_) => std::fs::metadata(dir)
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > UNWATCHED_GRACE)),
    }
}

/// EPERM means the process exists but belongs to someone else.
fn is_alive(pid: i32) -> bool {
    pid > 0
        && !matches!(
            nix::sys::signal::kill(Pid::from_raw(pid), None),
            Err(Errno::ESRCH)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_process_itself_counts_as_alive_here() {
        assert!(is_alive(std::process::id() as i32));
        assert!(!is_alive(0));
        assert!(!is_alive(i32::MAX));
    }
}
