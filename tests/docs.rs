//! The documentation's links hold: every relative link or image in `README.md` and
//! `docs/*.md` names a file of the repository and, with a `#fragment`, a heading of that
//! file, so moving a page or renaming a heading cannot silently break a reader's path; and
//! every repository file the pages name in code (`stream/tests/tail_commit_order.rs`) exists,
//! so moving code cannot leave the docs pointing at nothing.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `README.md` and every page under `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    for entry in std::fs::read_dir(Path::new(ROOT).join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The page's text outside fenced code blocks and inline code spans, line by line (links
/// and headings inside code are examples, not navigation).
fn prose(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let outside_code: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        out.push(outside_code);
    }
    out
}

/// Targets of the `[text](target)` and `![alt](target)` links of a page.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_fence = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#');
        if title.starts_with(' ') {
            out.insert(slug(&title.replace('`', "")));
        }
    }
    out
}

#[test]
fn the_heading_anchors_are_computed_as_github_computes_them() {
    assert_eq!(slug(" The 24 h saga (F8)"), "the-24-h-saga-f8");
    assert_eq!(
        slug("Pages, headers and sessions"),
        "pages-headers-and-sessions"
    );
    assert_eq!(slug("E-mail"), "e-mail");
    assert_eq!(slug("Answering (F4–F6, F12)"), "answering-f4f6-f12");
}

#[test]
fn every_relative_link_of_the_readme_and_the_docs_names_a_file_and_a_heading_that_exist() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = match target.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file)
            };
            let name = page.strip_prefix(ROOT).unwrap().display().to_string();
            if !resolved.exists() {
                broken.push(format!("{name}: {target} (no such file)"));
                continue;
            }
            if let Some(fragment) = fragment {
                let target_text = std::fs::read_to_string(&resolved).unwrap();
                if !anchors(&target_text).contains(fragment) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} links found: the parser lost them"
    );
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

/// Inline code spans of a page that name a file of this repository: `a/b/c.ext`, no spaces,
/// whose first directory is one at the repository's root (so `/api/v1/…` routes, `i18n/en.js`
/// inside the console's folder, `./.atende` made at run time, or `multipart/form-data` are not
/// taken for files).
fn repository_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            let looks_like_a_file = i % 2 == 1
                && span.contains('/')
                && !span.ends_with('/')
                && span
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
            let Some((first, _)) = span.split_once('/') else {
                continue;
            };
            let at_the_root =
                !matches!(first, "" | "." | "..") && Path::new(ROOT).join(first).is_dir();
            if looks_like_a_file && at_the_root {
                out.push(span.to_owned());
            }
        }
    }
    out
}

#[test]
fn every_repository_file_the_readme_and_the_docs_name_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for path in repository_paths(&text) {
            checked += 1;
            if !Path::new(ROOT).join(&path).exists() {
                let name = page.strip_prefix(ROOT).unwrap().display().to_string();
                missing.push(format!("{name}: {path}"));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} paths found: the parser lost them"
    );
    assert!(
        missing.is_empty(),
        "files named in the docs that do not exist: {missing:#?}"
    );
}
