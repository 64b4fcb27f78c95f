//! Reports export (F45): every admin table as CSV or as a spreadsheet, and the monthly
//! overview as a PDF, through one route:
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/admin/reports/export/{table}?format=csv\|xlsx&<the list's filters>` | the whole filtered list |
//! | `GET /api/v1/admin/reports/export/overview?format=pdf&month=YYYY-MM&locale=pt-BR\|en` | the month's overview |
//! | `GET /api/v1/audit/log/export?format=csv\|xlsx&<the log's filters>` | the audit log, for auditors too |
//!
//! A table's export takes the same filters as its list route (`cursor` and `limit` aside:
//! it holds every matching row) and pages through that route's own handler, so the file
//! has exactly the rows the list shows. CSV streams page by page (bounded memory); a
//! spreadsheet is assembled whole, so it stops at [`MAX_SHEET_ROWS`]. Exports are personal
//! data leaving the system: each is traced ([`Action::ExportReport`]) before its first
//! byte leaves. The admin route needs [`RequireAdmin`]; the audit log's, as the log itself,
//! [`RequireAuditor`].

mod monthly;
mod pdf;
mod sheet;
mod tables;

pub use tables::Table;

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiQuery, AuthUser, RequireAdmin, RequireAuditor};
use crate::trail::{Action, Trail};
use axum::body::Body;
use axum::extract::{FromRef, Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use chrono::Utc;
use futures::StreamExt;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most rows a spreadsheet export holds; more is a 422 (narrow the filters or take
/// the CSV, which streams).
pub const MAX_SHEET_ROWS: u32 = 100_000;

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PDF: &str = "application/pdf";

/// The lists' states, whose handlers the exports call.
#[derive(Debug, Clone)]
pub struct ExportState {
    /// The tenant directory.
    pub tenants: crate::tenants::TenantsState,
    /// Subscriptions and payments.
    pub billing: crate::billing::BillingState,
    /// Top spenders.
    pub usage: crate::usage::UsageState,
    /// Sign-in attempts and IP blocks.
    pub auth: crate::auth::AuthState,
    /// Notifications.
    pub notifications: crate::notifications::NotificationsState,
    /// The overview's reports.
    pub reports: crate::reports::ReportsState,
    /// The audit log.
    pub audit: crate::audit::AuditState,
}

/// The export routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ExportState: FromRef<S>,
    crate::trail::TrailState: FromRef<S>,
    crate::request::AuthConfig: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(export_audit_log))
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated, UTF-8 with a byte order mark; tables only.
    Csv,
    /// An Office Open XML spreadsheet; tables only.
    Xlsx,
    /// A PDF; the overview only.
    Pdf,
}

impl Format {
    const fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
        }
    }
}

/// The export's own parameters; any other is the table's list filter.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `xlsx` for a table, `pdf` for the overview.
    #[param(inline)]
    pub format: Format,
    /// The overview's month, `YYYY-MM` (default: this month, UTC).
    pub month: Option<String>,
    /// The overview's language: `pt-BR` (default) or `en`.
    pub locale: Option<String>,
}

/// Parameters that are the export's, not the list's.
const OWN: [&str; 5] = ["format", "month", "locale", "cursor", "limit"];

/// What `{table}` names: a table or the overview.
#[derive(Debug, Clone, Copy)]
enum Report {
    Table(Table),
    Overview,
}

fn report(name: &str) -> Result<Report, ApiError> {
    if name == "overview" {
        return Ok(Report::Overview);
    }
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map(Report::Table)
        .map_err(|_| ApiError::NotFound {
            code: "unknown_report",
            message: format!(
                "no report {name:?}; one of tenants, subscriptions, payments, usage, \
                 sign-in-attempts, ip-blocks, notifications, audit-log, overview"
            ),
        })
}

/// The caller's list filters (the raw query less the export's own parameters) and the
/// same with personal values left out, as the trace names them.
fn filters(raw: Option<&str>, personal: &[&str]) -> (String, String) {
    let mut kept = Vec::new();
    let mut traced = Vec::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if OWN.contains(&key) {
            continue;
        }
        kept.push(pair);
        if personal.contains(&key) {
            traced.push(format!("{key}=…"));
        } else {
            traced.push(pair.to_owned());
        }
    }
    (kept.join("&"), traced.join("&"))
}

fn unsupported(report: &str, format: Format) -> ApiError {
    ApiError::Unprocessable {
        code: "unsupported_format",
        message: format!(
            "{report} does not export as {}; tables export as csv or xlsx, the overview as pdf",
            format.extension()
        ),
        details: Some(serde_json::json!({"field": "format"})),
    }
}

fn attachment(content_type: &'static str, filename: &str, body: Body) -> Response {
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Names are ASCII: a report's name and a date.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Downloads an admin table (all the rows its list route's filters select) as CSV or a
/// spreadsheet, or the monthly overview as a PDF.
#[utoipa::path(
    get,
    path = "/api/v1/admin/reports/export/{table}",
    operation_id = "export_report",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(
        ("table" = String, Path, description = "`tenants`, `subscriptions`, `payments`, `usage`, `sign-in-attempts`, `ip-blocks`, `notifications`, `audit-log` (each takes its list route's filters as further query parameters) or `overview`"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The file, as a download (`Content-Disposition: attachment; filename=\"tenants-2026-12-07.xlsx\"`). CSV: a header row of the list's field names, then every matching row; money in major units beside its currency; instants in RFC 3339 UTC; a text a spreadsheet would run as a formula starts with `'`. Spreadsheet: the same columns, typed (numbers, dates, booleans), the header bold and frozen. PDF: the month's figures, MRR, average revenue, conversion, tenants and subscriptions by status, revenue and signups by month", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"),
        )),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such report (`unknown_report`)", body = crate::error::ErrorBody),
        (status = 422, description = "A format the report does not export as (`unsupported_format`), a spreadsheet of more than 100 000 rows (`export_too_large`), a malformed month (`invalid_month`) or locale (`invalid_locale`), or a filter its list refuses (its own code)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "exporting a report for an admin", skip_all, fields(report = %name))]
pub async fn export(
    State(state): State<ExportState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let report = report(&name)?;
    run(&state, admin, &trail, &name, report, raw, &q).await
}

/// Downloads the audit log (all the entries its filters select) as CSV or a spreadsheet.
#[utoipa::path(
    get,
    path = "/api/v1/audit/log/export",
    operation_id = "export_audit_log",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    params(ExportQuery, crate::audit::LogQuery),
    responses(
        (status = 200, description = "The file, as a download (`audit-log-2026-12-07.csv`), as the admin tables export (see `export_report`)", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "`format=pdf` (`unsupported_format`), more than 100 000 entries in a spreadsheet (`export_too_large`), or a filter the log refuses (its own code)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "exporting the audit log for an auditor", skip_all)]
pub async fn export_audit_log(
    State(state): State<ExportState>,
    RequireAuditor(auditor): RequireAuditor,
    trail: Trail,
    RawQuery(raw): RawQuery,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let table = Table::AuditLog;
    run(
        &state,
        auditor,
        &trail,
        table.name(),
        Report::Table(table),
        raw,
        &q,
    )
    .await
}

/// Exports `report` for `user`, traced.
async fn run(
    state: &ExportState,
    user: AuthUser,
    trail: &Trail,
    name: &str,
    report: Report,
    raw: Option<String>,
    q: &ExportQuery,
) -> Result<Response, ApiError> {
    let personal = match report {
        Report::Table(t) => t.personal_filters(),
        Report::Overview => &[],
    };
    let (filters, traced) = filters(raw.as_deref(), personal);
    let today = Utc::now().date_naive();
    let entry = Action::ExportReport
        .on("report", format!("{name}?{traced}").trim_end_matches('?'))
        .note(q.format.extension());
    let result = match (report, q.format) {
        (Report::Table(table), Format::Csv) => {
            csv(state.clone(), user, table, filters, today).await
        }
        (Report::Table(table), Format::Xlsx) => xlsx(state, user, table, &filters, today).await,
        (Report::Overview, Format::Pdf) => pdf(state, RequireAdmin(user), q).await,
        (_, format) => Err(unsupported(name, format)),
    };
    // Traced before the first byte leaves: the body is sent only once this returns.
    trail.record(entry, result).await
}

/// The CSV, streamed: the first page is read before answering (so a filter the list
/// refuses is a 4xx, not a cut-off download), the others as the client reads.
async fn csv(
    state: ExportState,
    user: AuthUser,
    table: Table,
    filters: String,
    today: chrono::NaiveDate,
) -> Result<Response, ApiError> {
    let columns = table.columns();
    let first = table.page(&state, user, &filters, None).await?;
    let head = sheet::csv_chunk(columns, &first.rows, true).map_err(ApiError::internal)?;
    let rest = futures::stream::unfold(first.next, move |cursor| {
        let state = state.clone();
        let filters = filters.clone();
        async move {
            let cursor = cursor?;
            let chunk = match table.page(&state, user, &filters, Some(&cursor)).await {
                Ok(page) => sheet::csv_chunk(columns, &page.rows, false)
                    .map(|bytes| (bytes, page.next))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("{e:?}")),
            };
            Some(match chunk {
                Ok((bytes, next)) => (Ok(bytes), next),
                Err(e) => {
                    // The answer has started: the client sees a cut-off download.
                    tracing::error!(error = %e, table = table.name(), "a CSV export stopped halfway");
                    (Err(std::io::Error::other(e)), None)
                }
            })
        }
    });
    let body = futures::stream::once(async move { Ok(head) })
        .chain(rest)
        .boxed();
    Ok(attachment(
        CSV,
        &format!("{}-{today}.csv", table.name()),
        Body::from_stream(body),
    ))
}

/// The spreadsheet, assembled whole.
async fn xlsx(
    state: &ExportState,
    user: AuthUser,
    table: Table,
    filters: &str,
    today: chrono::NaiveDate,
) -> Result<Response, ApiError> {
    let mut sheet = sheet::Sheet::new(table.name(), table.columns()).map_err(ApiError::internal)?;
    let mut cursor = None;
    loop {
        let page = table.page(state, user, filters, cursor.as_deref()).await?;
        if sheet.rows() + page.rows.len() as u32 > MAX_SHEET_ROWS {
            return Err(ApiError::Unprocessable {
                code: "export_too_large",
                message: format!(
                    "more than {MAX_SHEET_ROWS} rows: narrow the filters, or export as csv"
                ),
                details: None,
            });
        }
        sheet.append(&page.rows).map_err(ApiError::internal)?;
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let bytes = sheet.finish().map_err(ApiError::internal)?;
    Ok(attachment(
        XLSX,
        &format!("{}-{today}.xlsx", table.name()),
        Body::from(bytes),
    ))
}

/// The monthly overview.
async fn pdf(
    state: &ExportState,
    admin: RequireAdmin,
    q: &ExportQuery,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let first = monthly::parse_month(q.month.as_deref(), now.date_naive())?;
    let locale = monthly::Locale::parse(q.locale.as_deref())?;
    let bytes = monthly::report(state, admin, first, locale, now).await?;
    Ok(attachment(
        PDF,
        &format!("overview-{}.pdf", first.format("%Y-%m")),
        Body::from(bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exports_own_parameters_are_no_filters_and_personal_values_are_not_traced() {
        let (kept, traced) = filters(
            Some("format=csv&email=ana%40x.example&outcome=failed&cursor=abc&limit=5"),
            &["email"],
        );
        assert_eq!(kept, "email=ana%40x.example&outcome=failed");
        assert_eq!(traced, "email=…&outcome=failed");
        assert_eq!(filters(None, &[]), (String::new(), String::new()));
    }

    #[test]
    fn every_table_and_the_overview_are_named_in_the_path() {
        assert!(matches!(
            report("tenants"),
            Ok(Report::Table(Table::Tenants))
        ));
        assert!(matches!(
            report("sign-in-attempts"),
            Ok(Report::Table(Table::SignInAttempts))
        ));
        assert!(matches!(report("overview"), Ok(Report::Overview)));
        assert!(report("events").is_err());
    }
}
