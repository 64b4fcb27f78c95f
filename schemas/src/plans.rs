//! The commercial catalogue: plans (price, quota, features) and the AI models' token prices.
//!
//! Built-in defaults can be replaced as a whole by JSON (`ATENDE_PLANS`,
//! `ATENDE_MODEL_PRICES`). The model prices are configuration only. The configured plans are
//! the seed of the catalogue: admins publish, revise and retire plans as events of the
//! `plan` aggregate ([`crate::events::PlanEvent`]), and the plans in force are the
//! configured ones overlaid by the admin-set ones, minus the retired ones
//! ([`PlanCatalogue::overlaid`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A plan as sold. Also the payload of [`crate::events::PlanEvent::PlanSet`], so its field
/// names are a storage format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// The stable key events name (`basic`, `pro`, …).
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// Monthly price in the currency's minor unit.
    pub monthly_price_cents: i64,
    /// ISO 4217 code, lower case (`brl`).
    pub currency: String,
    /// AI answers included per billing period; `None` means unlimited.
    pub monthly_ai_message_quota: Option<i64>,
    /// Feature keys the plan includes.
    #[serde(default)]
    pub features: Vec<String>,
    /// The Stripe Price (`price_…`) a checkout sells; a plan without one is listed but
    /// cannot be bought through Stripe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_price_id: Option<String>,
}

/// Every plan on sale, by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanCatalogue {
    plans: BTreeMap<String, PlanSpec>,
}

/// What one model costs, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Per million prompt tokens.
    pub input_usd_per_million: f64,
    /// Per million completion tokens.
    pub output_usd_per_million: f64,
}

impl ModelPrice {
    /// The estimated cost of `tokens_in` prompt and `tokens_out` completion tokens, in USD.
    pub fn cost_usd(&self, tokens_in: i64, tokens_out: i64) -> f64 {
        // Token counts stay far below 2^53, so the conversion is exact.
        (tokens_in as f64 * self.input_usd_per_million
            + tokens_out as f64 * self.output_usd_per_million)
            / 1_000_000.0
    }
}

/// Token prices by model name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPrices {
    prices: BTreeMap<String, ModelPrice>,
}

/// Configuration that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogueError {
    /// The text is not JSON of the expected shape.
    #[error("{what} is not valid JSON of the expected shape: {reason}")]
    Malformed {
        /// Which setting.
        what: &'static str,
        /// serde's explanation, with line and column.
        reason: String,
    },
    /// The JSON was read but breaks a rule.
    #[error("{what}: {reason}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(what: &'static str, reason: String) -> CatalogueError {
    CatalogueError::Invalid { what, reason }
}

impl PlanCatalogue {
    /// The plans sold when nothing is configured.
    pub fn builtin() -> Self {
        let plan = |id: &str, name: &str, cents, quota, features: &[&str]| PlanSpec {
            id: id.into(),
            name: name.into(),
            monthly_price_cents: cents,
            currency: "brl".into(),
            monthly_ai_message_quota: quota,
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            stripe_price_id: None,
        };
        let plans = [
            plan(
                "basic",
                "Básico",
                14_900,
                Some(1_000),
                &["ai_answers", "human_handoff"],
            ),
            plan(
                "pro",
                "Profissional",
                39_900,
                Some(5_000),
                &["ai_answers", "human_handoff", "multiple_agents", "reports"],
            ),
            plan(
                "enterprise",
                "Empresarial",
                149_900,
                Some(30_000),
                &[
                    "ai_answers",
                    "human_handoff",
                    "multiple_agents",
                    "reports",
                    "priority_support",
                ],
            ),
        ];
        Self {
            plans: plans.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }

    /// Parses `ATENDE_PLANS`: a JSON array of plans, replacing the built-in ones.
    pub fn from_json(json: &str) -> Result<Self, CatalogueError> {
        const WHAT: &str = "ATENDE_PLANS";
        let plans: Vec<PlanSpec> =
            serde_json::from_str(json).map_err(|e| CatalogueError::Malformed {
                what: WHAT,
                reason: e.to_string(),
            })?;
        Self::from_plans(plans)
    }

    fn from_plans(plans: Vec<PlanSpec>) -> Result<Self, CatalogueError> {
        const WHAT: &str = "ATENDE_PLANS";
        let mut by_id = BTreeMap::new();
        for mut p in plans {
            if p.id.trim().is_empty() {
                return Err(invalid(WHAT, "a plan has an empty id".into()));
            }
            if p.monthly_price_cents < 0 {
                return Err(invalid(WHAT, format!("plan {} has a negative price", p.id)));
            }
            if p.monthly_ai_message_quota.is_some_and(|q| q < 0) {
                return Err(invalid(WHAT, format!("plan {} has a negative quota", p.id)));
            }
            if p.currency.len() != 3 || !p.currency.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(invalid(
                    WHAT,
                    format!(
                        "plan {} has currency {:?}, not a 3-letter code",
                        p.id, p.currency
                    ),
                ));
            }
            p.currency = p.currency.to_ascii_lowercase();
            let id = p.id.clone();
            if by_id.insert(id.clone(), p).is_some() {
                return Err(invalid(WHAT, format!("plan {id} is listed twice")));
            }
        }
        Ok(Self { plans: by_id })
    }

    /// This catalogue overlaid by admin-set specs (each replaces or adds the plan with its
    /// key), minus the `retired` keys: the plans in force when the catalogue is the seed.
    pub fn overlaid<'a>(
        &self,
        set: impl IntoIterator<Item = &'a PlanSpec>,
        retired: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut plans = self.plans.clone();
        for spec in set {
            plans.insert(spec.id.clone(), spec.clone());
        }
        for key in retired {
            plans.remove(key);
        }
        Self { plans }
    }

    /// Whether `key` may name a plan: 1 to 40 lowercase ASCII letters, digits, `-` and `_`,
    /// starting with a letter (it travels in URLs, Stripe metadata and events).
    pub fn is_plan_key(key: &str) -> bool {
        (1..=40).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }

    /// The plan with key `id`, if it is on sale.
    pub fn get(&self, id: &str) -> Option<&PlanSpec> {
        self.plans.get(id)
    }

    /// Every plan, by key.
    pub fn iter(&self) -> impl Iterator<Item = &PlanSpec> {
        self.plans.values()
    }

    /// Applies `ATENDE_STRIPE_PRICES`: `plan=price_…` pairs, comma-separated, giving plans
    /// (built-in or configured) the Stripe Price a checkout sells.
    pub fn with_stripe_prices(mut self, pairs: &str) -> Result<Self, CatalogueError> {
        const WHAT: &str = "ATENDE_STRIPE_PRICES";
        for pair in pairs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (plan, price) = pair
                .split_once('=')
                .map(|(a, b)| (a.trim(), b.trim()))
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .ok_or_else(|| invalid(WHAT, format!("{pair:?} is not plan=price_id")))?;
            let spec = self
                .plans
                .get_mut(plan)
                .ok_or_else(|| invalid(WHAT, format!("no plan {plan} in the catalogue")))?;
            spec.stripe_price_id = Some(price.to_owned());
        }
        Ok(self)
    }
}

impl Default for PlanCatalogue {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ModelPrices {
    /// The name of the model that answers by extracting passages, without an LLM: free.
    pub const EXTRACTIVE: &'static str = "extractive";

    /// Prices of common models when nothing is configured (list prices, USD).
    pub fn builtin() -> Self {
        let p = |input, output| ModelPrice {
            input_usd_per_million: input,
            output_usd_per_million: output,
        };
        Self {
            prices: BTreeMap::from([
                (Self::EXTRACTIVE.to_owned(), p(0.0, 0.0)),
                ("gpt-4o".to_owned(), p(2.5, 10.0)),
                ("gpt-4o-mini".to_owned(), p(0.15, 0.6)),
                ("gpt-4.1".to_owned(), p(2.0, 8.0)),
                ("gpt-4.1-mini".to_owned(), p(0.4, 1.6)),
                ("gpt-4.1-nano".to_owned(), p(0.1, 0.4)),
                ("gpt-3.5-turbo".to_owned(), p(0.5, 1.5)),
            ]),
        }
    }

    /// Parses `ATENDE_MODEL_PRICES`: a JSON object from model name to
    /// `{input_usd_per_million, output_usd_per_million}`, replacing the built-in table.
    pub fn from_json(json: &str) -> Result<Self, CatalogueError> {
        const WHAT: &str = "ATENDE_MODEL_PRICES";
        let prices: BTreeMap<String, ModelPrice> =
            serde_json::from_str(json).map_err(|e| CatalogueError::Malformed {
                what: WHAT,
                reason: e.to_string(),
            })?;
        for (model, price) in &prices {
            let ok = |x: f64| x.is_finite() && x >= 0.0;
            if !ok(price.input_usd_per_million) || !ok(price.output_usd_per_million) {
                return Err(invalid(
                    WHAT,
                    format!("model {model} has a negative or non-finite price"),
                ));
            }
        }
        Ok(Self { prices })
    }

    /// The price of `model`; `None` for a model the table does not know.
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.get(model)
    }
}

impl Default for ModelPrices {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The catalogue and the price table together, as readers need them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pricing {
    /// Plans on sale.
    pub plans: PlanCatalogue,
    /// Token prices.
    pub models: ModelPrices,
}

impl Pricing {
    /// Built-in defaults, each replaced by its JSON when given.
    pub fn from_config(
        plans_json: Option<&str>,
        model_prices_json: Option<&str>,
    ) -> Result<Self, CatalogueError> {
        fn nonblank(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        Ok(Self {
            plans: nonblank(plans_json)
                .map(PlanCatalogue::from_json)
                .transpose()?
                .unwrap_or_default(),
            models: nonblank(model_prices_json)
                .map(ModelPrices::from_json)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_sells_basic_pro_and_enterprise_in_reais() {
        let c = PlanCatalogue::builtin();
        let ids: Vec<_> = c.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["basic", "enterprise", "pro"]);
        assert!(c.iter().all(|p| p.currency == "brl"));
    }

    #[test]
    fn the_builtin_catalogue_passes_the_checks_configured_ones_must_pass() {
        let builtin: Vec<PlanSpec> = PlanCatalogue::builtin().iter().cloned().collect();
        let json = serde_json::to_string(&builtin).expect("serializes");
        assert_eq!(
            PlanCatalogue::from_json(&json),
            Ok(PlanCatalogue::builtin())
        );
    }

    #[test]
    fn configured_plans_replace_the_builtin_ones() {
        let c = PlanCatalogue::from_json(
            r#"[{"id": "solo", "name": "Solo", "monthly_price_cents": 990, "currency": "BRL",
                 "monthly_ai_message_quota": null}]"#,
        )
        .expect("valid");
        assert!(c.get("basic").is_none());
        let solo = c.get("solo").expect("configured");
        assert_eq!(solo.currency, "brl");
        assert_eq!(solo.monthly_ai_message_quota, None);
    }

    #[test]
    fn a_malformed_plan_list_names_the_setting_and_the_problem() {
        let e = PlanCatalogue::from_json(r#"[{"id": "x"}]"#).expect_err("missing fields");
        assert!(
            e.to_string().starts_with("ATENDE_PLANS is not valid JSON"),
            "{e}"
        );
        assert!(e.to_string().contains("missing field"), "{e}");
    }

    #[test]
    fn a_plan_listed_twice_is_refused() {
        let p = r#"{"id": "a", "name": "A", "monthly_price_cents": 1, "currency": "brl",
                    "monthly_ai_message_quota": 1}"#;
        let e = PlanCatalogue::from_json(&format!("[{p}, {p}]")).expect_err("duplicate");
        assert_eq!(e.to_string(), "ATENDE_PLANS: plan a is listed twice");
    }

    #[test]
    fn the_extractive_model_costs_nothing_and_others_cost_per_million_tokens() {
        let m = ModelPrices::builtin();
        let free = m.get(ModelPrices::EXTRACTIVE).expect("listed");
        assert_eq!(free.cost_usd(1_000_000, 1_000_000), 0.0);
        let mini = m.get("gpt-4o-mini").expect("listed");
        assert!((mini.cost_usd(2_000_000, 1_000_000) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn configured_model_prices_replace_the_table_and_refuse_negative_prices() {
        let m = ModelPrices::from_json(
            r#"{"house": {"input_usd_per_million": 1, "output_usd_per_million": 2}}"#,
        )
        .expect("valid");
        assert!(m.get("gpt-4o").is_none());
        assert!(m.get("house").is_some());
        let e = ModelPrices::from_json(
            r#"{"bad": {"input_usd_per_million": -1, "output_usd_per_million": 2}}"#,
        )
        .expect_err("negative");
        assert!(e.to_string().contains("bad"), "{e}");
    }

    #[test]
    fn stripe_prices_attach_to_named_plans_and_unknown_plans_are_refused() {
        let c = PlanCatalogue::builtin()
            .with_stripe_prices("basic=price_b, pro = price_p")
            .expect("valid");
        assert_eq!(
            c.get("basic").and_then(|p| p.stripe_price_id.as_deref()),
            Some("price_b")
        );
        assert_eq!(
            c.get("pro").and_then(|p| p.stripe_price_id.as_deref()),
            Some("price_p")
        );
        assert_eq!(
            c.get("enterprise").and_then(|p| p.stripe_price_id.clone()),
            None
        );
        let e = PlanCatalogue::builtin()
            .with_stripe_prices("gold=price_g")
            .expect_err("unknown plan");
        assert_eq!(
            e.to_string(),
            "ATENDE_STRIPE_PRICES: no plan gold in the catalogue"
        );
    }

    #[test]
    fn admin_set_plans_overlay_the_seed_and_retired_ones_leave_it() {
        let mut pro = PlanCatalogue::builtin().get("pro").cloned().expect("pro");
        pro.monthly_price_cents = 45_000;
        let mut gold = pro.clone();
        gold.id = "gold".into();
        let c = PlanCatalogue::builtin().overlaid([&pro, &gold], ["basic"]);
        let ids: Vec<_> = c.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["enterprise", "gold", "pro"]);
        assert_eq!(c.get("pro").map(|p| p.monthly_price_cents), Some(45_000));
        assert_eq!(
            PlanCatalogue::builtin().get("basic").map(|p| p.id.as_str()),
            Some("basic")
        );
    }

    #[test]
    fn plan_keys_are_short_lowercase_words_starting_with_a_letter() {
        for ok in ["pro", "gold-2027", "a", "plano_anual", &"x".repeat(40)] {
            assert!(PlanCatalogue::is_plan_key(ok), "{ok}");
        }
        for bad in [
            "",
            "Pro",
            "2pro",
            "-pro",
            "pro plan",
            "pró",
            &"x".repeat(41),
        ] {
            assert!(!PlanCatalogue::is_plan_key(bad), "{bad}");
        }
    }

    #[test]
    fn blank_configuration_means_the_builtin_defaults() {
        let p = Pricing::from_config(Some("  "), None).expect("defaults");
        assert_eq!(p, Pricing::default());
    }
}
