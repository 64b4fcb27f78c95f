//! A small page layout over pdf-writer: headings, lines of text and tables with numbers
//! aligned right, on as many A4 pages as they need.
//!
//! Text is set in the standard Helvetica faces with the WinAnsi encoding, which every PDF
//! reader has and which holds every letter Portuguese and English use (á, ã, ç, ê, õ…), so
//! no font file travels with the report. Content streams are left uncompressed: they are a
//! few kilobytes.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Helvetica's advance widths (thousandths of the size) of ASCII 32..=126; letters with
/// accents take their base letter's.
const WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// `text` in the WinAnsi encoding; a character it lacks becomes `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// The width of `text` at `size` points.
fn text_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let base = match c {
                'à'..='å' => 'a',
                'À'..='Å' => 'A',
                'ç' => 'c',
                'Ç' => 'C',
                'è'..='ë' => 'e',
                'È'..='Ë' => 'E',
                'ì'..='ï' => 'i',
                'Ì'..='Ï' => 'I',
                'ò'..='ö' => 'o',
                'Ò'..='Ö' => 'O',
                'ù'..='ü' => 'u',
                'Ù'..='Ü' => 'U',
                'ñ' => 'n',
                'Ñ' => 'N',
                other => other,
            };
            match base {
                ' '..='~' => u32::from(WIDTHS[base as usize - 32]),
                _ => 556,
            }
        })
        .sum();
    units as f32 * size / 1000.0
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
                Align::Right => x + width - 6.0 - text_width(text, 9.5),
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
            let x = WIDTH - MARGIN - text_width(text, 8.0);
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
        let first = 6;
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
        for (id, face) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
            pdf.type1_font(id)
                .base_font(Name(face.as_bytes()))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
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
        assert_eq!(win_ansi("€ →"), b"\x80 ?".to_vec());
    }

    #[test]
    fn digits_are_equally_wide_so_numbers_align() {
        assert_eq!(text_width("1111", 10.0), text_width("9999", 10.0));
        assert!(text_width("ação", 10.0) > 0.0);
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
