//! A small page layout over pdf-writer: headings, lines of text and tables with numbers
//! aligned right, on as many A4 pages as they need.
//!
//! Text is set in DejaVu Sans (regular and bold), embedded: the fonts travel with the
//! report, so it reads the same everywhere. They are vendored cut down to the WinAnsi
//! encoding's characters (see `fonts/LICENSE`), which hold every letter Portuguese and
//! English use (á, ã, ç, ê, õ…), so each is a simple TrueType font of one-byte codes, about
//! 26 kB. Content streams are left uncompressed: they are a few kilobytes.

use pdf_writer::types::FontFlags;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::sync::OnceLock;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// The characters of WinAnsi codes 0x80..=0x9F the report may use; the others of that
/// range are left undefined.
const HIGH: [(u8, char); 9] = [
    (0x80, '€'),
    (0x85, '…'),
    (0x91, '‘'),
    (0x92, '’'),
    (0x93, '“'),
    (0x94, '”'),
    (0x95, '•'),
    (0x96, '–'),
    (0x97, '—'),
];

/// `text` in the WinAnsi encoding; a character it lacks becomes `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            other => HIGH
                .iter()
                .find(|(_, h)| *h == other)
                .map_or(b'?', |(code, _)| *code),
        })
        .collect()
}

/// The character of WinAnsi `code`, if the report's fonts have one.
fn char_of(code: u8) -> Option<char> {
    match code {
        0x20..=0x7e | 0xa0..=0xff => Some(char::from(code)),
        _ => HIGH.iter().find(|(c, _)| *c == code).map(|(_, ch)| *ch),
    }
}

/// An embedded face and what the PDF says of it.
struct Face {
    file: &'static [u8],
    name: &'static str,
    /// Advance widths of codes 32..=255, in thousandths of the size.
    widths: Vec<f32>,
    bbox: Rect,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bold: bool,
}

const FIRST: u8 = 32;

impl Face {
    fn load(file: &'static [u8], name: &'static str, bold: bool) -> Self {
        // The files are part of this build; a broken one fails the unit tests.
        let face = ttf_parser::Face::parse(file, 0).ok();
        let scale = face
            .as_ref()
            .map_or(1.0, |f| 1000.0 / f32::from(f.units_per_em()));
        let widths = (FIRST..=255)
            .map(|code| {
                let advance = face.as_ref().and_then(|f| {
                    let glyph = f.glyph_index(char_of(code)?)?;
                    f.glyph_hor_advance(glyph)
                });
                advance.map_or(0.0, |a| f32::from(a) * scale)
            })
            .collect();
        let (bbox, ascent, descent, cap_height) = face.as_ref().map_or(
            (Rect::new(0.0, 0.0, 1000.0, 1000.0), 800.0, -200.0, 700.0),
            |f| {
                let b = f.global_bounding_box();
                (
                    Rect::new(
                        f32::from(b.x_min) * scale,
                        f32::from(b.y_min) * scale,
                        f32::from(b.x_max) * scale,
                        f32::from(b.y_max) * scale,
                    ),
                    f32::from(f.ascender()) * scale,
                    f32::from(f.descender()) * scale,
                    f32::from(f.capital_height().unwrap_or(f.ascender())) * scale,
                )
            },
        );
        Self {
            file,
            name,
            widths,
            bbox,
            ascent,
            descent,
            cap_height,
            bold,
        }
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = win_ansi(text)
            .iter()
            .map(|&b| {
                b.checked_sub(FIRST)
                    .and_then(|i| self.widths.get(usize::from(i)))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / 1000.0
    }
}

fn faces() -> &'static [Face; 2] {
    static FACES: OnceLock<[Face; 2]> = OnceLock::new();
    FACES.get_or_init(|| {
        [
            Face::load(
                include_bytes!("fonts/DejaVuSans-WinAnsi.ttf"),
                "DejaVuSans",
                false,
            ),
            Face::load(
                include_bytes!("fonts/DejaVuSans-Bold-WinAnsi.ttf"),
                "DejaVuSans-Bold",
                true,
            ),
        ]
    })
}

/// The width of `text` at `size` points.
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    faces()[usize::from(bold)].width(text, size)
}

/// How a table's column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A document being laid out, top to bottom.
pub struct Doc {
    pages: Vec<Content>,
    y: f32,
}

impl Doc {
    /// An empty document of one page.
    pub fn new() -> Self {
        Self {
            pages: vec![Content::new()],
            y: HEIGHT - MARGIN,
        }
    }

    /// Starts a new page when less than `height` is left on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.pages.push(Content::new());
            self.y = HEIGHT - MARGIN;
        }
    }

    fn page(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn put(&mut self, x: f32, y: f32, text: &str, size: f32, bold: bool) {
        let bytes = win_ansi(text);
        self.page()
            .begin_text()
            .set_font(if bold { BOLD } else { REGULAR }, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// A line of text at the left margin.
    pub fn line(&mut self, text: &str, size: f32, bold: bool) {
        self.room(size * 1.5);
        self.y -= size * 1.2;
        self.put(MARGIN, self.y, text, size, bold);
        self.y -= size * 0.3;
    }

    /// Blank space.
    pub fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    /// A section's heading, with a rule under it.
    pub fn heading(&mut self, text: &str) {
        self.room(60.0);
        self.gap(10.0);
        self.line(text, 13.0, true);
        let y = self.y;
        self.page()
            .set_stroke_gray(0.6)
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(WIDTH - MARGIN, y)
            .stroke();
        self.gap(4.0);
    }

    /// Label–value pairs, two columns.
    pub fn pairs(&mut self, pairs: &[(String, String)]) {
        for (label, value) in pairs {
            self.room(16.0);
            self.y -= 14.0;
            self.put(MARGIN, self.y, label, 10.0, false);
            self.put(MARGIN + 230.0, self.y, value, 10.0, true);
        }
    }

    /// A table: a bold header row, then rows; `widths` in points, summing to at most the
    /// text width (495 points).
    pub fn table(&mut self, header: &[&str], columns: &[(f32, Align)], rows: &[Vec<String>]) {
        self.room(40.0);
        self.row(header, columns, true);
        // Under the header's descenders.
        let y = self.y - 4.0;
        self.gap(2.0);
        self.page()
            .set_stroke_gray(0.75)
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(MARGIN + columns.iter().map(|c| c.0).sum::<f32>(), y)
            .stroke();
        for row in rows {
            if self.y - 16.0 < MARGIN {
                self.room(f32::MAX);
                self.row(header, columns, true);
            }
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            self.row(&cells, columns, false);
        }
    }

    fn row(&mut self, cells: &[&str], columns: &[(f32, Align)], bold: bool) {
        self.room(16.0);
        self.y -= 14.0;
        let mut x = MARGIN;
        for (text, (width, align)) in cells.iter().zip(columns) {
            let at = match align {
                Align::Left => x,
                Align::Right => x + width - 6.0 - text_width(text, 9.5, bold),
            };
            self.put(at, self.y, text, 9.5, bold);
            x += width;
        }
    }

    /// The finished file, its pages numbered at the foot (`footer(n, total)`).
    pub fn finish(mut self, title: &str, footer: impl Fn(usize, usize) -> String) -> Vec<u8> {
        let total = self.pages.len();
        let footers: Vec<String> = (1..=total).map(|n| footer(n, total)).collect();
        for (i, text) in footers.iter().enumerate() {
            let bytes = win_ansi(text);
            let x = WIDTH - MARGIN - text_width(text, 8.0, false);
            self.pages[i]
                .set_fill_gray(0.4)
                .begin_text()
                .set_font(REGULAR, 8.0)
                .next_line(x, MARGIN / 2.0)
                .show(Str(&bytes))
                .end_text();
        }

        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        // Each face: its font (3, 4), descriptor and file (6..=9).
        let first = 10;
        let page_ids: Vec<Ref> = (0..total).map(|i| Ref::new(first + 2 * i as i32)).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(total as i32);
        for (content, &id) in self.pages.into_iter().zip(&page_ids) {
            let content_id = Ref::new(id.get() + 1);
            let mut page = pdf.page(id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            page.resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        for (i, (id, face)) in [regular, bold].into_iter().zip(faces()).enumerate() {
            let descriptor = Ref::new(6 + 2 * i as i32);
            let file = Ref::new(7 + 2 * i as i32);
            let name = Name(face.name.as_bytes());
            {
                let mut font = pdf.indirect(id).dict();
                font.pair(Name(b"Type"), Name(b"Font"));
                font.pair(Name(b"Subtype"), Name(b"TrueType"));
                font.pair(Name(b"BaseFont"), name);
                font.pair(Name(b"FirstChar"), i32::from(FIRST));
                font.pair(Name(b"LastChar"), 255);
                font.insert(Name(b"Widths"))
                    .array()
                    .items(face.widths.iter().copied());
                font.pair(Name(b"FontDescriptor"), descriptor);
                font.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
            }
            pdf.font_descriptor(descriptor)
                .name(name)
                .flags(FontFlags::NON_SYMBOLIC)
                .bbox(face.bbox)
                .italic_angle(0.0)
                .ascent(face.ascent)
                .descent(face.descent)
                .cap_height(face.cap_height)
                .stem_v(if face.bold { 140.0 } else { 80.0 })
                .font_file2(file);
            pdf.stream(file, face.file)
                .pair(Name(b"Length1"), face.file.len() as i32);
        }
        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("atende"));
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portuguese_letters_are_in_win_ansi_and_others_become_a_question_mark() {
        assert_eq!(
            win_ansi("Relatório ç ã"),
            b"Relat\xf3rio \xe7 \xe3".to_vec()
        );
        assert_eq!(win_ansi("€ → —"), b"\x80 ? \x97".to_vec());
    }

    #[test]
    fn the_embedded_fonts_have_every_letter_and_equally_wide_digits() {
        for bold in [false, true] {
            assert_eq!(
                text_width("1111", 10.0, bold),
                text_width("9999", 10.0, bold)
            );
            for c in "aáàâãçéêíóôõúüAÁÂÃÇÉÊÍÓÔÕÚ€—".chars() {
                assert!(
                    text_width(&c.to_string(), 10.0, bold) > 0.0,
                    "{c} (bold: {bold})"
                );
            }
        }
        assert!(text_width("W", 10.0, false) > text_width("i", 10.0, false));
    }

    #[test]
    fn a_long_table_runs_onto_further_pages() {
        let mut doc = Doc::new();
        let rows: Vec<Vec<String>> = (0..100).map(|i| vec![i.to_string()]).collect();
        doc.table(&["n"], &[(100.0, Align::Right)], &rows);
        assert!(doc.pages.len() >= 2);
        let bytes = doc.finish("t", |n, total| format!("{n}/{total}"));
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
