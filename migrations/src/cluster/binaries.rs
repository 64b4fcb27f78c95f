//! Finding the PostgreSQL server programs.

use std::path::{Path, PathBuf};

use super::ClusterError;

/// Where Debian and Ubuntu install the server programs: one directory per major version,
/// deliberately kept off PATH by the packaging.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The three server programs of one PostgreSQL installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    postgres: PathBuf,
}

impl Binaries {
    /// Finds the programs on PATH, else in the newest `/usr/lib/postgresql/*/bin`.
    pub fn locate() -> Result<Self, ClusterError> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        dirs.extend(debian_bin_dirs(Path::new(DEBIAN_ROOT)));
        Self::find_in(dirs).map_err(|_| ClusterError::BinariesMissing {
            searched: format!("{DEBIAN_ROOT}/*/bin"),
        })
    }

    /// Finds the programs in the first of `dirs` that holds all three; mixing versions
    /// from different directories would make initdb and postgres disagree.
    pub fn find_in(dirs: impl IntoIterator<Item = PathBuf>) -> Result<Self, ClusterError> {
        let mut searched = Vec::new();
        for dir in dirs {
            let found = Self {
                initdb: dir.join("initdb"),
                pg_ctl: dir.join("pg_ctl"),
                postgres: dir.join("postgres"),
            };
            if [&found.initdb, &found.pg_ctl, &found.postgres]
                .iter()
                .all(|p| is_executable(p))
            {
                return Ok(found);
            }
            searched.push(dir.display().to_string());
        }
        Err(ClusterError::BinariesMissing {
            searched: searched.join(", "),
        })
    }

    /// The `initdb` program.
    pub fn initdb(&self) -> &Path {
        &self.initdb
    }

    /// The `pg_ctl` program.
    pub fn pg_ctl(&self) -> &Path {
        &self.pg_ctl
    }

    /// The `postgres` server program.
    pub fn postgres(&self) -> &Path {
        &self.postgres
    }

    /// A client program (`pg_dump`, `pg_restore`) on PATH, else in the newest
    /// `/usr/lib/postgresql/*/bin`. Looked up on its own: with `DATABASE_URL` the machine may
    /// have the client programs and no server.
    pub fn locate_client(name: &str) -> Result<PathBuf, ClusterError> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        dirs.extend(debian_bin_dirs(Path::new(DEBIAN_ROOT)));
        dirs.into_iter()
            .map(|dir| dir.join(name))
            .find(|program| is_executable(program))
            .ok_or_else(|| ClusterError::BinariesMissing {
                searched: format!("PATH and {DEBIAN_ROOT}/*/bin, for {name}"),
            })
    }
}

/// The `bin` directories under `root`, newest major version first.
fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_the_package_and_the_database_url_alternative() {
        let empty =
            std::env::temp_dir().join(format!("atende-no-pg-{}", uuid::Uuid::new_v4().simple()));
        let message = Binaries::find_in([empty]).unwrap_err().to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn the_newest_debian_version_is_preferred() {
        let root =
            std::env::temp_dir().join(format!("atende-pg-root-{}", uuid::Uuid::new_v4().simple()));
        for version in ["9", "15", "13", "notaversion"] {
            std::fs::create_dir_all(root.join(version).join("bin")).unwrap();
        }
        let dirs = debian_bin_dirs(&root);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            dirs,
            vec![root.join("15/bin"), root.join("13/bin"), root.join("9/bin")]
        );
    }
}
