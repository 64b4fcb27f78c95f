//! `atende admin …`: bootstraps platform users, e.g. the first super admin.

use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use read_api::auth::{password, Role};
use read_api::users::{self, NewUser};
use schemas::events::{ActionOutcome, ActionTarget};
use schemas::{Actor, CommandMetadata};
use serde_json::json;
use std::sync::Arc;

/// Admin operations.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Creates a platform user with a generated password, printed once as JSON.
    Create {
        /// The user's e-mail.
        #[arg(long)]
        email: String,
        /// The user's role.
        #[arg(long, value_enum, default_value_t = PlatformRole::Admin)]
        role: PlatformRole,
    },
}

/// The roles a platform user can have (tenant users come with their tenant).
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PlatformRole {
    /// Runs the SaaS.
    Admin,
    /// Runs the SaaS and may create other super admins.
    SuperAdmin,
    /// Reads the event log.
    Auditor,
}

impl From<PlatformRole> for Role {
    fn from(role: PlatformRole) -> Self {
        match role {
            PlatformRole::Admin => Role::Admin,
            PlatformRole::SuperAdmin => Role::SuperAdmin,
            PlatformRole::Auditor => Role::Auditor,
        }
    }
}

/// Runs an admin command, printing its JSON result on stdout.
#[allow(clippy::print_stdout)]
pub async fn run(db_config: &DatabaseConfig, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = Database::open(db_config).await?;
    let result = match cmd {
        AdminCommand::Create { email, role } => {
            let password = password::generate();
            let role = Role::from(role);
            let created = users::create(
                &db.pool,
                NewUser {
                    email,
                    password: password.clone(),
                    role,
                    tenant_id: None,
                },
            )
            .await
            .map_err(read_api::ApiError::from);
            let (target, outcome, detail) = match &created {
                Ok(user) => (user.id.to_string(), ActionOutcome::Done, role.as_str()),
                Err(e) if e.status().is_server_error() => {
                    (String::new(), ActionOutcome::Failed, e.code())
                }
                Err(e) => (String::new(), ActionOutcome::Refused, e.code()),
            };
            trace_creation(&db.pool, target, outcome, detail).await?;
            created.context("creating the user").map(|user| {
                json!({
                    "id": user.id,
                    "email": user.email,
                    "role": user.role,
                    "password": password,
                })
            })
        }
    };
    db.close().await?;
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

/// Records the creation in the audit trail (F46), as the HTTP route does: the first super
/// admin comes from here, and who created them must be in the log too.
async fn trace_creation(
    pool: &sqlx::PgPool,
    target: String,
    outcome: ActionOutcome,
    detail: &str,
) -> anyhow::Result<()> {
    let clock: Arc<dyn aggregates::Clock> = Arc::new(aggregates::SystemClock);
    // The trace holds no personal data, so its store needs no subject keys.
    let store = commands::AggregateStore::<aggregates::AdminAction>::new(
        pool.clone(),
        aggregates::AdminActionServices::new(clock.clone()),
        commands::CommandBusConfig::default().snapshot_every,
        Arc::new(|_, _| {}),
        None,
        clock,
    );
    let command = aggregates::AdminActionCommand::Record {
        action: read_api::trail::Action::CreatePlatformUser
            .name()
            .to_owned(),
        target: ActionTarget::new("user", target),
        outcome,
        detail: Some(detail.to_owned()),
        actor_id: None,
        actor_role: "system".into(),
    };
    let md = CommandMetadata::new(Actor::system("atende-cli"), None);
    store
        .execute(&uuid::Uuid::now_v7().to_string(), command, &md)
        .await
        .context("recording the creation in the audit trail")
}
