//! The whole product on a scratch database, for benchmarks that go through the API or the
//! live projections.

use crate::background::Part;
use crate::serve::{App, ServeConfig};
use aggregates::{SystemClock, TenantCommand};
use clap::Parser;
use read_api::auth::{AuthConfig, AuthUser, JwtSecret, Role};
use schemas::events::Plan;
use schemas::personal::MasterKey;
use schemas::{Actor, ActorKind, CommandMetadata, Personal};
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// `serve`'s settings as the environment and defaults give them, on a random port (not
/// named `Settings`: clap names the group after the struct, and `serve`'s background
/// settings already are).
#[derive(Debug, Parser)]
struct ServeOnRandomPort {
    #[command(flatten)]
    serve: ServeConfig,
}

/// A started app and the key its access tokens are signed with.
pub struct Running {
    /// The app.
    pub app: App,
    /// Signs access tokens the app accepts.
    pub auth: AuthConfig,
}

impl Running {
    /// Registers `tenant` on the basic plan with `owner_email` as its owner's address, and
    /// links the WhatsApp Cloud API number `number` to it, as an admin would.
    pub async fn register_tenant(
        &self,
        tenant: Uuid,
        owner_email: &str,
        number: &str,
    ) -> anyhow::Result<()> {
        let md = CommandMetadata::new(
            Actor {
                kind: ActorKind::Admin,
                id: "bench".into(),
            },
            Some(tenant),
        );
        let tenants = &self.app.bus.tenants;
        tenants
            .execute(
                &tenant.to_string(),
                TenantCommand::RegisterTenant {
                    tenant_id: tenant,
                    name: "Bench".into(),
                    owner_email: Personal::from(owner_email),
                    plan: Plan("basic".into()),
                },
                &md,
            )
            .await?;
        tenants
            .execute(
                &tenant.to_string(),
                TenantCommand::LinkWhatsAppNumber {
                    phone_number_id: number.into(),
                    display_phone_number: Personal::from("+55 11 4000-0000"),
                },
                &md,
            )
            .await?;
        Ok(())
    }

    /// Starts the app on `pool` (migrated) with `master` as its master key.
    pub async fn start(pool: PgPool, master: MasterKey) -> anyhow::Result<Self> {
        Self::start_with(pool, master, |_| {}).await
    }

    /// [`Running::start`] with `configure` applied to the settings first.
    pub async fn start_with(
        pool: PgPool,
        master: MasterKey,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> anyhow::Result<Self> {
        Self::start_parts(pool, master, configure, &Part::ALL).await
    }

    /// [`Running::start_with`] with only `parts` of the background work.
    pub async fn start_parts(
        pool: PgPool,
        master: MasterKey,
        configure: impl FnOnce(&mut ServeConfig),
        parts: &[Part],
    ) -> anyhow::Result<Self> {
        let secret = JwtSecret::generate();
        let mut config =
            ServeOnRandomPort::try_parse_from(["bench", "--http-addr", "127.0.0.1:0"])?.serve;
        // The benchmarks push thousands of requests a second through one tenant or number:
        // they measure the server, not its rate limits (a bench may turn them back on).
        config.rate_limits = crate::rate_limits::RateLimitSettings::OFF;
        configure(&mut config);
        config.jwt_secret = Some(secret.clone());
        let app = App::start_parts(pool, &config, Arc::new(SystemClock), master, parts).await?;
        Ok(Self {
            app,
            auth: AuthConfig::new(&secret, false),
        })
    }

    /// An access token of an owner of `tenant`.
    pub fn owner_token(&self, tenant: Uuid) -> anyhow::Result<String> {
        let owner = AuthUser {
            id: Uuid::now_v7(),
            role: Role::Owner,
            tenant_id: Some(tenant),
        };
        Ok(self.auth.issue_access_token(&owner)?.token)
    }

    /// An HTTP client for the app.
    pub fn app_client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// The API's base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.app.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmarks_serve_settings_are_a_valid_command_line() {
        use clap::CommandFactory;
        ServeOnRandomPort::command().debug_assert();
    }
}
