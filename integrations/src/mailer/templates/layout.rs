//! Text and HTML bodies from a template's blocks. Every value is escaped for HTML here, in
//! text as in attributes, so a tenant named `<script>` stays text.

use super::{Block, Content, Rendered};
use std::fmt::Write;

pub(super) fn render(content: &Content) -> Rendered {
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5; color: #222\">\n",
    );
    for block in &content.blocks {
        match block {
            Block::Para(p) => {
                let _ = write!(text, "{p}\n\n");
                let _ = writeln!(html, "<p>{}</p>", escape(p));
            }
            Block::Field(label, value) => {
                let _ = write!(text, "{label}: {value}\n\n");
                let _ = writeln!(
                    html,
                    "<p><strong>{}:</strong> <code>{}</code></p>",
                    escape(label),
                    escape(value)
                );
            }
            Block::Link(label, url) => {
                let _ = write!(text, "{label}:\n{url}\n\n");
                let _ = writeln!(
                    html,
                    "<p><a href=\"{}\">{}</a></p>",
                    escape(url),
                    escape(label)
                );
            }
        }
    }
    let _ = writeln!(text, "-- \n{}", content.signature);
    let _ = write!(
        html,
        "<p style=\"color: #777\">{}</p>\n</body></html>\n",
        escape(content.signature)
    );
    Rendered {
        subject: content.subject.clone(),
        text,
        html,
    }
}

/// Escapes the five characters that matter in HTML text and quoted attributes.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
