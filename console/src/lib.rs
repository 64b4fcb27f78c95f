//! The web console's assets — its HTML shell, ES modules, styles, message catalogues and
//! vendored browser libraries — embedded in the binary, so `atende serve` needs no files
//! beside it and works offline. The HTTP edge (read-api) serves them; this crate only says
//! what each file is.
//!
//! Debug builds read `assets/` from the source tree at run time (edit, reload); release
//! builds carry the bytes.

use flate2::write::GzEncoder;
use flate2::Compression;
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::io::Write;

/// Where a debug build reads the assets from. Naming it with `env!` makes rustc record the
/// checkout in the build's dependency info, so Cargo rebuilds this crate when the same
/// target directory serves another checkout (worktrees sharing one), instead of serving
/// that checkout's files.
pub const SOURCE_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The page every console route answers with; the client-side router picks the view.
pub const INDEX: &str = "index.html";

/// The Content-Security-Policy of console pages: only this origin's scripts, styles,
/// images and connections; no inline script or style, no framing, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// One embedded file.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Its bytes.
    pub body: Cow<'static, [u8]>,
    /// Its `Content-Type`, with `charset=utf-8` for text.
    pub content_type: String,
    /// A strong `ETag` (quoted) from the content's SHA-256.
    pub etag: String,
}

/// The file at `path` (relative to the assets folder, e.g. `app/main.js`), if embedded.
pub fn asset(path: &str) -> Option<Asset> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/")
        || mime == "application/javascript"
        || mime == "application/json"
    {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Some(Asset {
        body: file.data,
        content_type,
        etag,
    })
}

/// The console's HTML page.
pub fn index() -> Asset {
    // The folder is compiled in with index.html in it; a missing one is a broken build.
    asset(INDEX).unwrap_or_else(|| Asset {
        body: Cow::Borrowed(b"console assets missing from this build"),
        content_type: "text/plain; charset=utf-8".into(),
        etag: "\"missing\"".into(),
    })
}

/// Every embedded path.
pub fn paths() -> impl Iterator<Item = Cow<'static, str>> {
    Assets::iter()
}

/// The budget for all console JavaScript and CSS together, gzipped. Part 1's issue set
/// 150 KB; part 2 (issue 18) adds the admin's and the auditor's pages, which load on demand
/// (routes.js imports each page when it is opened) but count here all the same.
pub const SIZE_BUDGET_BYTES: usize = 200 * 1024;

/// The size of every embedded JavaScript and CSS file, each gzipped on its own (as the
/// server's compression sends them), summed; and how many files that is.
pub fn gzipped_js_css_bytes() -> (usize, usize) {
    let mut total = 0;
    let mut files = 0;
    for path in paths() {
        if !(path.ends_with(".js") || path.ends_with(".css")) {
            continue;
        }
        let Some(file) = asset(&path) else { continue };
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(&file.body);
        total += gz.finish().map(|b| b.len()).unwrap_or(0);
        files += 1;
    }
    (total, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_console_javascript_and_css_together_stay_within_the_size_budget_gzipped() {
        let (total, files) = gzipped_js_css_bytes();
        assert!(files > 5, "only {files} JS/CSS files embedded");
        assert!(
            total <= SIZE_BUDGET_BYTES,
            "console JS + CSS is {total} bytes gzipped, over the {SIZE_BUDGET_BYTES} budget"
        );
    }

    #[test]
    fn scripts_are_served_as_javascript_with_an_etag() {
        let main = asset("app/main.js").expect("the entry module is embedded");
        assert_eq!(main.content_type, "text/javascript; charset=utf-8");
        assert!(main.etag.starts_with('"') && main.etag.len() > 10);
        assert!(index().content_type.starts_with("text/html"));
    }

    /// The keys of a catalogue module (`"key": "text",` lines).
    fn catalogue_keys(path: &str) -> std::collections::BTreeSet<String> {
        let file = asset(path).expect("the catalogue is embedded");
        String::from_utf8_lossy(&file.body)
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .filter_map(|l| l.split_once("\":").map(|(k, _)| k.to_owned()))
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_every_literal_key_the_code_uses() {
        let pt = catalogue_keys("i18n/pt-BR.js");
        let en = catalogue_keys("i18n/en.js");
        assert!(pt.len() > 50, "{} keys", pt.len());
        let only_pt: Vec<_> = pt.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&pt).collect();
        assert!(
            only_pt.is_empty() && only_en.is_empty(),
            "pt-BR only: {only_pt:?}; en only: {only_en:?}"
        );
        let mut missing = Vec::new();
        for path in paths().filter(|p| p.starts_with("app/")) {
            let text = String::from_utf8_lossy(&asset(&path).expect("embedded").body).into_owned();
            for (i, _) in text.match_indices("t(\"") {
                // `import("…")` ends in `t(` too.
                let word = text[..i]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                if word {
                    continue;
                }
                let rest = &text[i + 3..];
                let key: String = rest.chars().take_while(|c| *c != '"').collect();
                let literal = key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
                // `t("status." + s)` builds its key: only whole literal keys are checked.
                if literal && !key.ends_with('.') && !pt.contains(&key) {
                    missing.push(format!("{path}: {key}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalogues: {missing:?}"
        );
    }

    #[test]
    fn no_console_markup_uses_an_inline_style_the_csp_would_block() {
        for path in paths().filter(|p| p.starts_with("app/") || p.ends_with(".html")) {
            let text = String::from_utf8_lossy(&asset(&path).expect("embedded").body).into_owned();
            assert!(
                !text.contains(" style="),
                "{path} has an inline style attribute"
            );
            assert!(
                !text.contains("<style"),
                "{path} has an inline style element"
            );
        }
    }

    #[test]
    fn axe_core_is_not_embedded_it_is_for_tests_only() {
        assert!(paths().all(|p| !p.contains("axe")));
    }
}
