//! `atende admin …`: bootstraps platform users, e.g. the first super admin.

use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use read_api::auth::{password, Role};
use read_api::users::{self, NewUser};
use serde_json::json;

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
            users::create(
                &db.pool,
                NewUser {
                    email,
                    password: password.clone(),
                    role: role.into(),
                    tenant_id: None,
                },
            )
            .await
            .context("creating the user")
            .map(|user| {
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
