//! `spawn_app`: the whole application on a random port over a fresh database.

use aggregates::SystemClock;
use aggregates::TenantCommand;
use atende::background::Settings;
use atende::serve::{App, ServeConfig};
use read_api::auth::{AuthConfig, JwtSecret, Role};
use read_api::users::{self, NewUser};
use schemas::events::Plan;
use schemas::personal::MasterKey;
use schemas::{Actor, ActorKind, CommandMetadata, Personal};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: testkit::TestDatabase,
    pub app: App,
    /// Signs tokens with the server's key (to mint expired ones).
    pub auth: AuthConfig,
}

/// A user made directly in the database, with the password they sign in with.
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub password: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with `configure` applied to the settings first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_app_with_clock(Arc::new(SystemClock), configure).await
}

/// `spawn_app_with` on `clock` (a `FixedClock` to move time by hand).
pub async fn spawn_app_with_clock(
    clock: Arc<dyn aggregates::Clock>,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    let db = testkit::test_database().await.expect("a test database");
    start_app_with_clock(db, MasterKey::generate(), clock, configure).await
}

/// Starts the application on `db` with `master` (a restart reuses both).
pub async fn start_app(
    db: testkit::TestDatabase,
    master: MasterKey,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    start_app_with_clock(db, master, Arc::new(SystemClock), configure).await
}

/// `start_app` on `clock`.
pub async fn start_app_with_clock(
    db: testkit::TestDatabase,
    master: MasterKey,
    clock: Arc<dyn aggregates::Clock>,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    let secret = JwtSecret::generate();
    let mut config = ServeConfig {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        snapshot_every: 50,
        jwt_secret: Some(secret.clone()),
        trust_proxy: false,
        cors_origins: Default::default(),
        no_workers: false,
        background: Settings {
            tail_poll_ms: 20,
            // Other suites record customer messages; the AI answering them would change what
            // they observe. The AI's own tests turn it on.
            ai: atende::ai::AiSettings {
                ai_enabled: false,
                ..Default::default()
            },
            ..Default::default()
        },
        backup: atende::backup::BackupSchedule {
            backup_dir: None,
            backup_keep: 7,
        },
        rate_limits: Default::default(),
    };
    configure(&mut config);
    let app = App::start(db.pool.clone(), &config, clock, master)
        .await
        .expect("the app starts");
    TestApp {
        address: format!("http://{}", app.addr),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        db,
        app,
        auth: AuthConfig::new(&secret, false),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request sent")
    }

    /// Sends `body` as JSON, with `token` as bearer when given.
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{}", self.address, path))
            .json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// DELETE with a bearer token.
    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a user through the library (as onboarding and the CLI do), with a generated
    /// password.
    pub async fn create_user(&self, email: &str, role: Role, tenant: Option<Uuid>) -> TestUser {
        let password = read_api::auth::password::generate();
        let user = users::create(
            &self.db.pool,
            NewUser {
                email: email.into(),
                password: password.clone(),
                role,
                tenant_id: tenant,
            },
        )
        .await
        .expect("the user is created");
        TestUser {
            id: user.id,
            email: user.email,
            password,
        }
    }

    /// POST /api/v1/auth/login.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
            None,
        )
        .await
    }

    /// Signs `user` in and returns the whole token response.
    pub async fn tokens(&self, user: &TestUser) -> Value {
        let resp = self.login(&user.email, &user.password).await;
        assert_eq!(resp.status(), 200, "signing {} in", user.email);
        resp.json().await.expect("a token response")
    }

    /// Signs `user` in and returns their access token.
    pub async fn access_token(&self, user: &TestUser) -> String {
        let tokens = self.tokens(user).await;
        tokens["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// A new user with `role` (and a fresh tenant for tenant roles), signed in.
    pub async fn signed_in(&self, role: Role) -> (TestUser, String) {
        let tenant = role.is_tenant_role().then(Uuid::now_v7);
        let email = format!("{}-{}@atende.example", role, Uuid::now_v7().simple());
        let user = self.create_user(&email, role, tenant).await;
        let token = self.access_token(&user).await;
        (user, token)
    }

    /// Metadata of a command an admin (`admin-1`) issues for `tenant`.
    pub fn admin_metadata(tenant: Uuid) -> CommandMetadata {
        CommandMetadata::new(
            Actor {
                kind: ActorKind::Admin,
                id: "admin-1".into(),
            },
            Some(tenant),
        )
    }

    /// Runs `command` on `tenant` through the write side, as admin `admin-1`.
    pub async fn tenant_command(&self, tenant: Uuid, command: TenantCommand) {
        self.app
            .bus
            .tenants
            .execute(&tenant.to_string(), command, &Self::admin_metadata(tenant))
            .await
            .expect("the tenant command succeeds");
    }

    /// Registers a new tenant named `name` (owner e-mail `owner_email`) and returns its id.
    pub async fn register_tenant(&self, name: &str, owner_email: &str) -> Uuid {
        let tenant = Uuid::now_v7();
        self.tenant_command(
            tenant,
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: name.into(),
                owner_email: Personal::from(owner_email),
                plan: Plan("basic".into()),
            },
        )
        .await;
        tenant
    }

    /// Polls `check` until it holds or 10 s pass.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..500 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}
