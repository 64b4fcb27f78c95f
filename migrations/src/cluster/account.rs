//! The unprivileged account PostgreSQL runs as when atende runs as root.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid, User};

use super::ClusterError;

/// An OS account the server programs are run as, because PostgreSQL refuses to run as root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAccount {
    name: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
}

impl ServerAccount {
    /// The account to run the cluster in `cluster_dir` as, or `None` when this process is
    /// not root and can run the programs itself.
    ///
    /// An existing cluster keeps the account that owns it, so that installing the
    /// `postgres` user later does not strand a cluster created as `nobody`.
    pub fn for_cluster(cluster_dir: &Path) -> Result<Option<Self>, ClusterError> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        if let Ok(meta) = std::fs::metadata(cluster_dir.join("PG_VERSION")) {
            if meta.uid() != 0 {
                if let Some(user) = User::from_uid(Uid::from_raw(meta.uid())).ok().flatten() {
                    return Ok(Some(Self::from_user(user)));
                }
            }
        }
        ["postgres", "nobody"]
            .into_iter()
            .find_map(|name| User::from_name(name).ok().flatten())
            .map(|user| Some(Self::from_user(user)))
            .ok_or(ClusterError::NoUnprivilegedUser)
    }

    fn from_user(user: User) -> Self {
        Self {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            home: user.dir,
        }
    }

    /// The account's login name, e.g. for `runuser -u`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account's user id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The account's primary group id: the only group it keeps, since dropping root
    /// clears supplementary groups.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Fails unless the account may enter every ancestor of `cluster_dir`: otherwise
    /// initdb and postgres fail later with a far less helpful "permission denied".
    pub fn check_can_reach(&self, cluster_dir: &Path) -> Result<(), ClusterError> {
        for dir in cluster_dir.ancestors().skip(1) {
            let meta = std::fs::metadata(dir).map_err(ClusterError::io("inspect", dir))?;
            if !self.may_traverse(meta.uid(), meta.gid(), meta.mode()) {
                return Err(ClusterError::Unreachable {
                    user: self.name.clone(),
                    blocked: dir.to_path_buf(),
                    cluster: cluster_dir.to_path_buf(),
                });
            }
        }
        Ok(())
    }

    /// Unix checks only the first class that matches: an owner without `x` is refused
    /// even when others may enter.
    fn may_traverse(&self, owner: u32, group: u32, mode: u32) -> bool {
        if owner == self.uid {
            mode & 0o100 != 0
        } else if group == self.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    }

    /// Hands `path` over to the account.
    pub(crate) fn chown(&self, path: &Path) -> Result<(), ClusterError> {
        nix::unistd::chown(
            path,
            Some(Uid::from_raw(self.uid)),
            Some(Gid::from_raw(self.gid)),
        )
        .map_err(|errno| ClusterError::Io {
            action: "change the owner of",
            path: path.to_path_buf(),
            source: errno.into(),
        })
    }

    /// Makes `command` run as the account. The working directory moves to `/` because
    /// ours may be closed to the account, which makes initdb and pg_ctl fail.
    pub(crate) fn apply(&self, command: &mut tokio::process::Command) {
        command
            .uid(self.uid)
            .gid(self.gid)
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .current_dir("/");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> ServerAccount {
        ServerAccount {
            name: "pg".into(),
            uid: 101,
            gid: 104,
            home: "/var/lib/postgresql".into(),
        }
    }

    #[test]
    fn traversal_follows_the_first_matching_permission_class() {
        let pg = account();
        assert!(pg.may_traverse(0, 0, 0o755));
        assert!(!pg.may_traverse(0, 0, 0o750));
        assert!(pg.may_traverse(0, 104, 0o750));
        assert!(pg.may_traverse(101, 0, 0o700));
        assert!(!pg.may_traverse(101, 0, 0o077));
    }

    #[test]
    fn an_unreachable_cluster_tells_to_move_the_data_dir() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let pg = ServerAccount::for_cluster(Path::new("/nonexistent"))
            .unwrap()
            .unwrap();
        let closed =
            std::env::temp_dir().join(format!("atende-closed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let result = pg.check_can_reach(&closed.join("postgres"));
        std::fs::remove_dir(&closed).unwrap();
        let message = result.unwrap_err().to_string();
        assert!(message.contains("ATENDE_DATA_DIR"), "{message}");
        assert!(message.contains(&closed.display().to_string()), "{message}");
    }
}
