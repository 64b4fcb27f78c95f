//! A table's rows as typed cells, written as CSV (streamed page by page) or as a real
//! spreadsheet (rust_xlsxwriter: numbers as numbers, dates as dates, money in major units).

use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::Value;

/// What a column holds, and so how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text as is.
    Text,
    /// A whole number.
    Int,
    /// A decimal number (a cost in USD, a ratio).
    Number,
    /// A share, 1.0 being 100 %.
    Ratio,
    /// True or false.
    Bool,
    /// An instant (RFC 3339 in the JSON), written in UTC.
    Time,
    /// A calendar day (`YYYY-MM-DD`).
    Day,
    /// An amount in the minor unit of the currency named by the field given: written in
    /// major units (`4990` `brl` is 49.90).
    Money(&'static str),
    /// A list of texts, joined by `, `.
    List,
}

/// One column: where its value is in a row of the JSON list, its header and its kind.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The row's field; `a.b` for a field of an object field.
    pub field: &'static str,
    /// The header, as the file shows it.
    pub header: &'static str,
    /// How it is written.
    pub kind: Kind,
}

/// Shorthand for a column.
pub const fn col(field: &'static str, header: &'static str, kind: Kind) -> Column {
    Column {
        field,
        header,
        kind,
    }
}

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing (a null or absent field).
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A decimal number; `decimals` says how many to show.
    Number { value: f64, decimals: u8 },
    /// A share.
    Ratio(f64),
    /// True or false.
    Bool(bool),
    /// An instant.
    Time(DateTime<Utc>),
    /// A day.
    Day(NaiveDate),
}

/// ISO 4217 currencies without a minor unit (Stripe's list); every other has two decimals
/// (Stripe's three-decimal ones are not offered by this product).
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// How many decimals `currency` has.
pub fn decimals(currency: &str) -> u8 {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        0
    } else {
        2
    }
}

/// `minor` units of `currency` in major units.
pub fn major(minor: i64, currency: &str) -> f64 {
    // Amounts stay far below 2^53: the conversion is exact before the division.
    minor as f64 / 10f64.powi(i32::from(decimals(currency)))
}

fn field<'a>(row: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(row, |v, key| v.get(key).unwrap_or(&Value::Null))
}

impl Column {
    /// This column's cell of `row`.
    pub fn cell(&self, row: &Value) -> Cell {
        let v = field(row, self.field);
        if v.is_null() {
            return Cell::Empty;
        }
        match self.kind {
            Kind::Text => Cell::Text(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            Kind::Int => v.as_i64().map_or(Cell::Empty, Cell::Int),
            Kind::Number => v
                .as_f64()
                .map_or(Cell::Empty, |value| Cell::Number { value, decimals: 4 }),
            Kind::Ratio => v.as_f64().map_or(Cell::Empty, Cell::Ratio),
            Kind::Bool => v.as_bool().map_or(Cell::Empty, Cell::Bool),
            Kind::Time => v
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map_or(Cell::Empty, |t| Cell::Time(t.with_timezone(&Utc))),
            Kind::Day => v
                .as_str()
                .and_then(|s| s.parse().ok())
                .map_or(Cell::Empty, Cell::Day),
            Kind::Money(currency_field) => {
                let currency = field(row, currency_field).as_str().unwrap_or("");
                v.as_i64().map_or(Cell::Empty, |minor| Cell::Number {
                    value: major(minor, currency),
                    decimals: decimals(currency),
                })
            }
            Kind::List => Cell::Text(
                v.as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            ),
        }
    }
}

/// A text a spreadsheet opening the CSV would run as a formula (`=`, `+`, `-`, `@`, a tab
/// or a carriage return first) gets a leading `'`: tenant names and e-mails are typed by
/// anyone, and the file is opened by admins.
fn defused(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

impl Cell {
    /// As a CSV field: numbers with a dot, instants in RFC 3339 UTC, days as `YYYY-MM-DD`.
    pub fn csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => defused(s).into_owned(),
            Cell::Int(n) => n.to_string(),
            Cell::Number { value, decimals } => format!("{value:.*}", usize::from(*decimals)),
            Cell::Ratio(r) => r.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Cell::Day(d) => d.to_string(),
        }
    }
}

/// The header line and the given rows as CSV (the first chunk starts with a UTF-8 byte
/// order mark, so spreadsheets read the accents right).
pub fn csv_chunk(columns: &[Column], rows: &[Value], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if header {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    if header {
        w.write_record(columns.iter().map(|c| c.header))?;
    }
    for row in rows {
        w.write_record(columns.iter().map(|c| c.cell(row).csv()))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// A workbook of one sheet named `name` being filled row by row.
pub struct Sheet {
    workbook: Workbook,
    columns: Vec<Column>,
    next_row: u32,
    formats: Formats,
}

struct Formats {
    header: Format,
    time: Format,
    day: Format,
    int: Format,
    ratio: Format,
    money: [Format; 3],
}

impl Sheet {
    /// A sheet with the header row: bold, frozen, with a filter.
    pub fn new(name: &str, columns: &[Column]) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let formats = Formats {
            header: Format::new().set_bold(),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            day: Format::new().set_num_format("yyyy-mm-dd"),
            int: Format::new().set_num_format("0"),
            ratio: Format::new().set_num_format("0.0%"),
            money: [
                Format::new().set_num_format("#,##0"),
                Format::new().set_num_format("#,##0.00"),
                Format::new().set_num_format("#,##0.0000"),
            ],
        };
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        for (i, c) in columns.iter().enumerate() {
            let i = col_index(i)?;
            sheet.write_string_with_format(0, i, c.header, &formats.header)?;
            sheet.set_column_width(i, width(c))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Self {
            workbook,
            columns: columns.to_vec(),
            next_row: 1,
            formats,
        })
    }

    /// Rows written so far (the header left out).
    pub fn rows(&self) -> u32 {
        self.next_row - 1
    }

    /// Appends `rows`.
    pub fn append(&mut self, rows: &[Value]) -> Result<(), XlsxError> {
        let sheet = self.workbook.worksheet_from_index(0)?;
        for row in rows {
            for (i, c) in self.columns.iter().enumerate() {
                write(
                    sheet,
                    self.next_row,
                    col_index(i)?,
                    &c.cell(row),
                    &self.formats,
                )?;
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// The finished file.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        let last_col = col_index(self.columns.len().saturating_sub(1))?;
        let last_row = self.rows();
        self.workbook
            .worksheet_from_index(0)?
            .autofilter(0, 0, last_row, last_col)?;
        self.workbook.save_to_buffer()
    }
}

fn col_index(i: usize) -> Result<u16, XlsxError> {
    u16::try_from(i).map_err(|_| XlsxError::ParameterError("too many columns".into()))
}

/// A column wide enough for its header and typical values.
fn width(c: &Column) -> f64 {
    let typical: f64 = match c.kind {
        Kind::Text => 24.0,
        Kind::List => 30.0,
        Kind::Time => 19.0,
        Kind::Day => 11.0,
        Kind::Money(_) | Kind::Number => 12.0,
        Kind::Int | Kind::Ratio | Kind::Bool => 8.0,
    };
    // Ids are 36 characters.
    let typical = if c.field.ends_with("_id") || c.field == "tenant_id" {
        38.0
    } else {
        typical
    };
    typical.max(c.header.chars().count() as f64 + 3.0)
}

fn write(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        // Strings are typed as strings: a name starting with `=` is no formula here.
        Cell::Text(s) => {
            sheet.write_string(row, col, s)?;
        }
        Cell::Int(n) => {
            // Counts and ids stay far below 2^53.
            sheet.write_number_with_format(row, col, *n as f64, &f.int)?;
        }
        Cell::Number { value, decimals } => {
            let i = usize::from(*decimals).min(4) / 2;
            sheet.write_number_with_format(row, col, *value, &f.money[i])?;
        }
        Cell::Ratio(r) => {
            sheet.write_number_with_format(row, col, *r, &f.ratio)?;
        }
        Cell::Bool(b) => {
            sheet.write_boolean(row, col, *b)?;
        }
        Cell::Time(t) => {
            sheet.write_datetime_with_format(row, col, t.naive_utc(), &f.time)?;
        }
        Cell::Day(d) => {
            sheet.write_datetime_with_format(row, col, *d, &f.day)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_written_in_major_units_of_its_own_currency() {
        let c = col("amount_cents", "amount", Kind::Money("currency"));
        let brl = c.cell(&json!({"amount_cents": 4990, "currency": "brl"}));
        assert_eq!(brl.csv(), "49.90");
        let jpy = c.cell(&json!({"amount_cents": 4990, "currency": "jpy"}));
        assert_eq!(jpy.csv(), "4990");
        assert_eq!(c.cell(&json!({"amount_cents": null})), Cell::Empty);
    }

    #[test]
    fn a_text_that_a_spreadsheet_would_run_as_a_formula_is_defused() {
        let c = col("name", "name", Kind::Text);
        assert_eq!(
            c.cell(&json!({"name": "=HYPERLINK(\"x\")"})).csv(),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(
            c.cell(&json!({"name": "Padaria São João"})).csv(),
            "Padaria São João"
        );
    }

    #[test]
    fn a_nested_field_is_read_through_its_dotted_path() {
        let c = col("period.start", "period_start", Kind::Day);
        let cell = c.cell(&json!({"period": {"start": "2026-12-01"}}));
        assert_eq!(cell.csv(), "2026-12-01");
    }
}
