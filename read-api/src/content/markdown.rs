//! Markdown to HTML for tutorials and announcements, safe to put in a page: raw HTML in the
//! source is dropped (never passed through, so nothing an author pastes can run), links
//! keep only `http(s)`, `mailto` and same-site addresses and open in a new tab without
//! handing it the console (`rel="noopener noreferrer"`), and images become links (the
//! console's policy loads no outside images).

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Whether a link target is one a page may follow: web and mail addresses, and paths of
/// this site. `javascript:`, `data:` and every other scheme are not.
fn safe_href(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

/// Escapes text for a double-quoted attribute.
fn attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open_link(url: &str) -> Event<'static> {
    if safe_href(url) {
        let external = !url.starts_with('/') && !url.starts_with('#');
        let target = if external {
            " target=\"_blank\" rel=\"noopener noreferrer nofollow\""
        } else {
            ""
        };
        Event::Html(CowStr::from(format!(
            "<a href=\"{}\"{target}>",
            attribute(url.trim())
        )))
    } else {
        // The text stays; the link does not.
        Event::Html(CowStr::from("<span>"))
    }
}

/// Renders `markdown` to HTML with the rules above.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Each link's closing tag must match what opened it.
    let mut open: Vec<&'static str> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(_) | Event::InlineHtml(_) => None,
        Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
            let event = open_link(&dest_url);
            open.push(if safe_href(&dest_url) {
                "</a>"
            } else {
                "</span>"
            });
            Some(event)
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            Some(Event::Html(CowStr::from(open.pop().unwrap_or("</a>"))))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn markdown_becomes_html() {
        assert_eq!(
            to_html("# Título\n\nTexto **forte** e *ênfase*.\n\n- um\n- dois"),
            "<h1>Título</h1>\n<p>Texto <strong>forte</strong> e <em>ênfase</em>.</p>\n\
             <ul>\n<li>um</li>\n<li>dois</li>\n</ul>\n"
        );
    }

    #[test]
    fn raw_html_is_dropped_and_text_is_escaped() {
        let html = to_html(
            "<script>alert(1)</script>\n\nOlá <img src=x onerror=alert(1)> mundo & <b>b</b>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(html.contains("Olá"), "{html}");
        assert!(html.contains("&amp;"), "{html}");
    }

    #[test]
    fn links_open_outside_and_unsafe_schemes_lose_their_link() {
        let html = to_html("[site](https://example.com/a?b=1&c=\"2\") e [x](javascript:alert(1))");
        assert!(
            html.contains(
                "<a href=\"https://example.com/a?b=1&amp;c=&quot;2&quot;\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">site</a>"
            ),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("<span>x</span>"), "{html}");
        let inside = to_html("[bot](/bot)");
        assert!(inside.contains("<a href=\"/bot\">bot</a>"), "{inside}");
        let image = to_html("![logo](https://example.com/l.png)");
        assert!(!image.contains("<img"), "{image}");
    }
}
