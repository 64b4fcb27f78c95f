//! The monthly overview as a PDF: the admin overview's figures for one calendar month, in
//! Portuguese or English. Each figure comes from the report route the overview page reads
//! (called here, not recomputed), so the PDF and the page cannot disagree.

use super::pdf::{Align, Doc};
use super::ExportState;
use crate::error::ApiError;
use crate::reports::{OverviewQuery, RevenueQuery, SignupsQuery};
use crate::request::{ApiQuery, RequireAdmin};
use axum::extract::State;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use std::collections::BTreeMap;

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// Brazilian Portuguese, the default.
    PtBr,
    /// English.
    En,
}

impl Locale {
    /// `pt-BR` (the default) or `en`; 422 for anything else.
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        match text.map(str::trim) {
            None | Some("") | Some("pt-BR") | Some("pt") => Ok(Self::PtBr),
            Some("en") | Some("en-US") => Ok(Self::En),
            Some(other) => Err(ApiError::Unprocessable {
                code: "invalid_locale",
                message: format!("locale must be pt-BR or en, not {other:?}"),
                details: Some(serde_json::json!({"field": "locale"})),
            }),
        }
    }
}

/// The first day of `YYYY-MM` (default: this month, UTC); 422 when malformed.
pub fn parse_month(text: Option<&str>, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today.with_day(1).unwrap_or(today)),
        Some(t) => NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d").map_err(|_| {
            ApiError::Unprocessable {
                code: "invalid_month",
                message: format!("month must be YYYY-MM, not {t:?}"),
                details: Some(serde_json::json!({"field": "month"})),
            }
        }),
    }
}

struct Labels {
    title: &'static str,
    generated: &'static str,
    months: [&'static str; 12],
    month_figures: &'static str,
    revenue: &'static str,
    ai_cost: &'static str,
    ai_replies: &'static str,
    ai_share: &'static str,
    new_tenants: &'static str,
    cancelled_tenants: &'static str,
    unpriced: &'static str,
    now: &'static str,
    mrr: &'static str,
    paying: &'static str,
    average: &'static str,
    conversion: &'static str,
    conversion_detail: &'static str,
    tenants_by_status: &'static str,
    subscriptions_by_status: &'static str,
    status: &'static str,
    count: &'static str,
    without_subscription: &'static str,
    complimentary: &'static str,
    revenue_by_month: &'static str,
    month: &'static str,
    currency: &'static str,
    amount: &'static str,
    payments: &'static str,
    signups_by_month: &'static str,
    none: &'static str,
    page: &'static str,
    decimal: char,
    thousands: char,
}

const PT_BR: Labels = Labels {
    title: "Relatório mensal",
    generated: "Gerado em",
    months: [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
    month_figures: "Números do mês",
    revenue: "Receita recebida",
    ai_cost: "Custo estimado de IA",
    ai_replies: "Respostas de IA",
    ai_share: "Custo de IA sobre a receita",
    new_tenants: "Novos clientes",
    cancelled_tenants: "Cancelamentos",
    unpriced: "Modelos sem preço (fora do custo)",
    now: "Situação na data de geração",
    mrr: "MRR",
    paying: "Assinaturas pagantes",
    average: "Ticket médio",
    conversion: "Conversão de teste para pago",
    conversion_detail: "convertidos de decididos",
    tenants_by_status: "Clientes por situação",
    subscriptions_by_status: "Assinaturas por situação",
    status: "Situação",
    count: "Quantidade",
    without_subscription: "sem assinatura",
    complimentary: "das quais cortesia",
    revenue_by_month: "Receita por mês (últimos 12 meses)",
    month: "Mês",
    currency: "Moeda",
    amount: "Valor",
    payments: "Pagamentos",
    signups_by_month: "Cadastros e cancelamentos por mês",
    none: "nenhum",
    page: "Página",
    decimal: ',',
    thousands: '.',
};

const EN: Labels = Labels {
    title: "Monthly report",
    generated: "Generated on",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    month_figures: "The month's figures",
    revenue: "Revenue received",
    ai_cost: "Estimated AI cost",
    ai_replies: "AI answers",
    ai_share: "AI cost over revenue",
    new_tenants: "New tenants",
    cancelled_tenants: "Cancellations",
    unpriced: "Models without a price (left out of the cost)",
    now: "As of the day it was generated",
    mrr: "MRR",
    paying: "Paying subscriptions",
    average: "Average revenue per subscription",
    conversion: "Trial to paid conversion",
    conversion_detail: "converted of decided",
    tenants_by_status: "Tenants by status",
    subscriptions_by_status: "Subscriptions by status",
    status: "Status",
    count: "Count",
    without_subscription: "without subscription",
    complimentary: "of which complimentary",
    revenue_by_month: "Revenue by month (last 12 months)",
    month: "Month",
    currency: "Currency",
    amount: "Amount",
    payments: "Payments",
    signups_by_month: "Signups and cancellations by month",
    none: "none",
    page: "Page",
    decimal: '.',
    thousands: ',',
};

/// Status names as the console shows them.
fn status_name(l: Locale, status: &str) -> String {
    let pt = match status {
        "active" => "ativo",
        "suspended" => "suspenso",
        "trialing" => "em teste",
        "past_due" => "em atraso",
        "cancelled" => "cancelado",
        other => other,
    };
    match l {
        Locale::PtBr => pt.to_owned(),
        Locale::En => status.replace('_', " "),
    }
}

impl Locale {
    fn labels(self) -> &'static Labels {
        match self {
            Self::PtBr => &PT_BR,
            Self::En => &EN,
        }
    }

    /// `n` with `decimals` decimals and grouped thousands.
    fn number(self, n: f64, decimals: usize) -> String {
        let l = self.labels();
        let text = format!("{:.*}", decimals, n.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(l.thousands);
            }
            grouped.push(c);
        }
        let sign = if n < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
            "-"
        } else {
            ""
        };
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}{}{frac}", l.decimal)
        }
    }

    fn int(self, n: i64) -> String {
        self.number(n as f64, 0)
    }

    /// An amount of `currency`'s minor unit, with its symbol.
    fn money(self, minor: i64, currency: &str) -> String {
        let value = super::sheet::major(minor, currency);
        let decimals = usize::from(super::sheet::decimals(currency));
        self.amount(value, decimals, currency)
    }

    fn amount(self, value: f64, decimals: usize, currency: &str) -> String {
        let symbol = match (currency.to_ascii_lowercase().as_str(), self) {
            ("brl", _) => "R$".to_owned(),
            ("usd", Self::PtBr) => "US$".to_owned(),
            ("usd", Self::En) => "$".to_owned(),
            ("eur", _) => "€".to_owned(),
            (other, _) => other.to_ascii_uppercase(),
        };
        format!("{symbol} {}", self.number(value, decimals))
    }

    fn percent(self, ratio: f64) -> String {
        format!("{}%", self.number(ratio * 100.0, 1))
    }

    fn month(self, first: NaiveDate) -> String {
        let name = self.labels().months[first.month0() as usize];
        match self {
            Self::PtBr => format!("{name} de {}", first.year()),
            Self::En => format!("{name} {}", first.year()),
        }
    }

    fn short_month(self, first: NaiveDate) -> String {
        format!("{:02}/{}", first.month(), first.year())
    }

    fn day(self, at: DateTime<Utc>) -> String {
        match self {
            Self::PtBr => at.format("%d/%m/%Y %H:%M UTC").to_string(),
            Self::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// The PDF of the month starting on `first`.
pub async fn report(
    state: &ExportState,
    admin: RequireAdmin,
    first: NaiveDate,
    locale: Locale,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, ApiError> {
    let reports = || State(state.reports.clone());
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let year_before = first.checked_sub_months(Months::new(11)).unwrap_or(first);
    let day = |d: NaiveDate| Some(d.to_string());

    let status = crate::reports::status_report(reports(), admin).await?.0;
    let mrr = crate::reports::compute_mrr(&state.reports).await?;
    let overview = crate::reports::overview_report(
        reports(),
        admin,
        ApiQuery(OverviewQuery { month: day(first) }),
    )
    .await?
    .0;
    let revenue = crate::reports::revenue_report(
        reports(),
        admin,
        ApiQuery(RevenueQuery {
            from: day(year_before),
            to: day(first),
        }),
    )
    .await?
    .0;
    let signups = crate::reports::signups_report(
        reports(),
        admin,
        ApiQuery(SignupsQuery {
            granularity: Some("month".into()),
            from: day(year_before),
            to: day(last),
        }),
    )
    .await?
    .0;

    let l = locale.labels();
    let mut doc = Doc::new();
    doc.line(&format!("atende — {}", l.title), 20.0, true);
    doc.line(&locale.month(first), 14.0, false);
    doc.line(&format!("{} {}", l.generated, locale.day(now)), 9.0, false);

    // The month.
    doc.heading(&format!("{} — {}", l.month_figures, locale.month(first)));
    let month = &overview.month;
    let mut pairs = Vec::new();
    if month.revenue_cents.is_empty() {
        pairs.push((l.revenue.to_owned(), locale.money(0, "brl")));
    }
    for (currency, cents) in &month.revenue_cents {
        pairs.push((
            format!("{} ({})", l.revenue, currency.to_ascii_uppercase()),
            locale.money(*cents, currency),
        ));
    }
    pairs.push((
        l.ai_cost.to_owned(),
        locale.amount(month.ai_cost_usd, 2, "usd"),
    ));
    if let Some(usd) = month.revenue_cents.get("usd").filter(|c| **c > 0) {
        pairs.push((
            l.ai_share.to_owned(),
            locale.percent(month.ai_cost_usd / super::sheet::major(*usd, "usd")),
        ));
    }
    pairs.push((l.ai_replies.to_owned(), locale.int(month.ai_replies)));
    let this_month = signups.buckets.iter().find(|b| b.start == first);
    pairs.push((
        l.new_tenants.to_owned(),
        locale.int(this_month.map_or(0, |b| b.new_tenants)),
    ));
    pairs.push((
        l.cancelled_tenants.to_owned(),
        locale.int(this_month.map_or(0, |b| b.cancelled_tenants)),
    ));
    if !month.unpriced_models.is_empty() {
        pairs.push((l.unpriced.to_owned(), month.unpriced_models.join(", ")));
    }
    doc.pairs(&pairs);

    // Now: MRR, average revenue, conversion.
    doc.heading(l.now);
    let mut pairs = Vec::new();
    for (currency, cents) in &mrr.mrr_cents {
        pairs.push((
            format!("{} ({})", l.mrr, currency.to_ascii_uppercase()),
            locale.money(*cents, currency),
        ));
    }
    if mrr.mrr_cents.is_empty() {
        pairs.push((l.mrr.to_owned(), l.none.to_owned()));
    }
    pairs.push((l.paying.to_owned(), locale.int(mrr.paying_subscriptions)));
    for avg in &overview.average_revenue {
        pairs.push((
            format!("{} ({})", l.average, avg.currency.to_ascii_uppercase()),
            locale.money(avg.average_cents, &avg.currency),
        ));
    }
    let c = &overview.conversion;
    pairs.push((
        l.conversion.to_owned(),
        match c.rate {
            Some(rate) => format!(
                "{} ({} {} {})",
                locale.percent(rate),
                locale.int(c.converted),
                l.conversion_detail,
                locale.int(c.trials - c.running)
            ),
            None => "—".to_owned(),
        },
    ));
    doc.pairs(&pairs);

    // Status tables.
    let counts = |items: &[crate::reports::StatusCount]| -> Vec<Vec<String>> {
        items
            .iter()
            .map(|s| vec![status_name(locale, &s.status), locale.int(s.count)])
            .collect()
    };
    let columns = [(200.0, Align::Left), (100.0, Align::Right)];
    doc.heading(l.tenants_by_status);
    let mut rows = counts(&status.tenants);
    rows.push(vec![
        l.without_subscription.to_owned(),
        locale.int(status.tenants_without_subscription),
    ]);
    doc.table(&[l.status, l.count], &columns, &rows);
    doc.heading(l.subscriptions_by_status);
    let mut rows = counts(&status.subscriptions);
    for s in &status.complimentary_subscriptions {
        rows.push(vec![
            format!("{} — {}", status_name(locale, &s.status), l.complimentary),
            locale.int(s.count),
        ]);
    }
    doc.table(&[l.status, l.count], &columns, &rows);

    // Revenue by month.
    doc.heading(l.revenue_by_month);
    let mut by_month: BTreeMap<(NaiveDate, String), (i64, i64)> = BTreeMap::new();
    for m in &revenue.months {
        by_month.insert((m.month, m.currency.clone()), (m.amount_cents, m.payments));
    }
    let rows: Vec<Vec<String>> = by_month
        .iter()
        .map(|((month, currency), (cents, payments))| {
            vec![
                locale.short_month(*month),
                currency.to_ascii_uppercase(),
                locale.money(*cents, currency),
                locale.int(*payments),
            ]
        })
        .collect();
    if rows.is_empty() {
        doc.line(l.none, 10.0, false);
    } else {
        doc.table(
            &[l.month, l.currency, l.amount, l.payments],
            &[
                (110.0, Align::Left),
                (80.0, Align::Left),
                (150.0, Align::Right),
                (100.0, Align::Right),
            ],
            &rows,
        );
    }

    // Signups and cancellations by month.
    doc.heading(l.signups_by_month);
    let rows: Vec<Vec<String>> = signups
        .buckets
        .iter()
        .map(|b| {
            vec![
                locale.short_month(b.start),
                locale.int(b.new_tenants),
                locale.int(b.cancelled_tenants),
            ]
        })
        .collect();
    doc.table(
        &[l.month, l.new_tenants, l.cancelled_tenants],
        &[
            (110.0, Align::Left),
            (120.0, Align::Right),
            (120.0, Align::Right),
        ],
        &rows,
    );

    let title = format!("atende — {} — {}", l.title, locale.month(first));
    Ok(doc.finish(&title, |n, total| format!("{} {n}/{total}", l.page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_money_read_as_each_language_writes_them() {
        assert_eq!(Locale::PtBr.money(123_456_789, "brl"), "R$ 1.234.567,89");
        assert_eq!(Locale::En.money(123_456_789, "brl"), "R$ 1,234,567.89");
        assert_eq!(Locale::En.money(4990, "usd"), "$ 49.90");
        assert_eq!(Locale::PtBr.money(500, "jpy"), "JPY 500");
        assert_eq!(Locale::PtBr.percent(0.125), "12,5%");
        assert_eq!(Locale::PtBr.int(-1000), "-1.000");
        assert_eq!(Locale::En.int(0), "0");
    }

    #[test]
    fn a_month_is_read_as_year_and_month() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(parse_month(None, today).unwrap(), dec);
        assert_eq!(parse_month(Some("2026-12"), today).unwrap(), dec);
        assert!(parse_month(Some("2026-13"), today).is_err());
        assert!(parse_month(Some("dezembro"), today).is_err());
        assert_eq!(Locale::PtBr.month(dec), "dezembro de 2026");
    }
}
