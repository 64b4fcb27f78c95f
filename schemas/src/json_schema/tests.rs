#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("json")
}

fn checked_in(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                if let Ok(rel) = p.strip_prefix(dir) {
                    out.insert(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    out
}

/// With `ATENDE_WRITE_SCHEMAS=1` the files are rewritten (and stale ones removed) instead.
#[test]
fn schema_files_match_the_event_types_in_the_code() {
    let generated = files();
    let dir = dir();
    if std::env::var_os("ATENDE_WRITE_SCHEMAS").is_some_and(|v| v == "1") {
        for stale in checked_in(&dir) {
            std::fs::remove_file(dir.join(stale)).unwrap();
        }
        for f in &generated {
            let path = dir.join(&f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &f.contents).unwrap();
        }
    }
    let regenerate = "regenerate: ATENDE_WRITE_SCHEMAS=1 cargo nextest run -p schemas schema_files";
    for f in &generated {
        let on_disk = std::fs::read_to_string(dir.join(&f.path)).unwrap_or_default();
        let first_difference = on_disk
            .lines()
            .zip(f.contents.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(n, (a, b))| format!("line {}: file {a:?}, code {b:?}", n + 1))
            .unwrap_or_else(|| "one is a prefix of the other".into());
        assert!(
            on_disk == f.contents,
            "{} differs from the code ({first_difference}); {regenerate}",
            f.path
        );
    }
    let expected: BTreeSet<String> = generated.iter().map(|f| f.path.clone()).collect();
    let extra: Vec<_> = checked_in(&dir).difference(&expected).cloned().collect();
    assert!(
        extra.is_empty(),
        "schema files without an event type: {extra:?}; {regenerate}"
    );
}

#[test]
fn every_event_type_has_a_schema_file() {
    let paths: BTreeSet<String> = files().into_iter().map(|f| f.path).collect();
    for (kind, name) in crate::events::all_event_types() {
        let path = path_of(kind.as_str(), name, EVENT_VERSION);
        assert!(paths.contains(&path), "no schema for {path}");
    }
}
