//! The browser harness: the product with its workers on a random port, one headless
//! Chromium with a fresh profile, and what the tests assert about a page (no JavaScript
//! error, no serious accessibility violation) and keep of it (screenshots).

use crate::helpers::{spawn_app_with, TestApp, TestUser};
use atende::serve::ServeConfig;
use chromiumoxide::cdp::browser_protocol::browser::{
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::cdp::browser_protocol::emulation::{
    MediaFeature, SetDeviceMetricsOverrideParams,
};
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel, LogEntrySource};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Element, Page};
use futures::StreamExt;
use read_api::auth::Role;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP_SECRET: &str = "meta-app-secret";
const PHONE_NUMBER_ID: &str = "pn-1";
const CUSTOMER: &str = "5511987654321";
/// The id the fake Graph API gives every message it accepts.
const SENT_MESSAGE_ID: &str = "wamid.out-1";

/// Where Debian installs Chromium (`.ci/run` installs it when missing).
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a page gets to show what a test waits for.
const WAIT: Duration = Duration::from_secs(15);

/// The product, a browser and one page in it.
pub struct Console {
    pub app: TestApp,
    pub page: Page,
    browser: Browser,
    errors: Arc<Mutex<Vec<String>>>,
    profile: PathBuf,
    /// The fake Graph API, when WhatsApp is set up.
    graph: Option<MockServer>,
    /// The viewport a test chose, if any.
    viewport: Mutex<Option<(i64, i64)>>,
}

/// A tenant with its owner.
pub struct Tenant {
    pub id: Uuid,
    pub owner: TestUser,
}

impl Console {
    /// The product with default settings and a browser on a desktop-sized window.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The product with `configure` applied, and a browser.
    pub async fn start_with(configure: impl FnOnce(&mut ServeConfig)) -> Self {
        assert!(
            Path::new(CHROMIUM).exists(),
            "the browser tests need Chromium at {CHROMIUM}: `apt-get install chromium` \
             (.ci/run installs it)"
        );
        let app = spawn_app_with(configure).await;
        // Debug builds serve the assets folder named when the console crate was compiled;
        // a target dir shared by two checkouts can link the other one's.
        let served = app.get("/assets/css/app.css").await.text().await;
        assert_eq!(
            served.ok().as_deref(),
            Some(include_str!("../../console/assets/css/app.css")),
            "the server serves another checkout's console assets (a shared target dir?): \
             touch console/src/lib.rs and rerun"
        );
        let profile = std::env::temp_dir().join(format!("atende-chromium-{}", Uuid::now_v7()));
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .user_data_dir(&profile)
            .no_sandbox()
            .window_size(1280, 860)
            .viewport(None)
            // This machine has no network: without these Chromium keeps dialling out.
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .build()
            .expect("a browser configuration");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        // The handler drives the CDP connection. Events of newer Chromiums that this CDP
        // version cannot decode come out as errors: skip them, keep driving.
        tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page("about:blank").await.expect("a page");
        page.enable_log().await.expect("the Log domain");
        let errors = Arc::new(Mutex::new(Vec::new()));
        collect_errors(&page, errors.clone()).await;
        Self {
            app,
            page,
            browser,
            errors,
            profile,
            graph: None,
            viewport: Mutex::new(None),
        }
    }

    /// The product with the WhatsApp Cloud API set up against a fake Graph API that
    /// accepts every message.
    pub async fn start_with_whatsapp() -> Self {
        let graph = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/{PHONE_NUMBER_ID}/messages")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}],
                "messages": [{"id": SENT_MESSAGE_ID}]})))
            .mount(&graph)
            .await;
        let graph_url = graph.uri();
        let mut console = Self::start_with(move |c| {
            c.background.whatsapp.whatsapp_app_secret = Some(APP_SECRET.into());
            c.background.whatsapp.whatsapp_verify_token = Some("verify-me".into());
            c.background.whatsapp.whatsapp_graph_url = graph_url;
            c.background.whatsapp.whatsapp_token = Some("platform-token".into());
            c.background.whatsapp.whatsapp_retry_base_ms = 20;
        })
        .await;
        console.graph = Some(graph);
        console
    }

    /// Links the fake number to the tenant of the owner whose token is `owner_token`.
    pub async fn link_number(&self, owner_token: &str) {
        let linked = self
            .app
            .client
            .put(self.url("/api/v1/settings/whatsapp"))
            .bearer_auth(owner_token)
            .json(&json!({"phone_number_id": PHONE_NUMBER_ID,
                          "display_phone_number": "+55 11 4000-0000"}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(linked.status(), 200, "linking the number");
    }

    /// The customer (named `name`) writes `text` to the linked number: Meta's signed
    /// webhook, as Meta sends it.
    pub async fn customer_writes(&self, name: &str, text: &str) {
        self.meta_webhook(json!({
            "contacts": [{"profile": {"name": name}, "wa_id": CUSTOMER}],
            "messages": [{"from": CUSTOMER, "id": format!("wamid.{}", Uuid::now_v7().simple()),
                          "timestamp": chrono::Utc::now().timestamp().to_string(),
                          "type": "text", "text": {"body": text}}]}))
            .await;
    }

    /// Meta reports `status` (`delivered`, `read`, …) of the message the fake Graph API
    /// accepted.
    pub async fn provider_reports(&self, status: &str) {
        self.meta_webhook(json!({"statuses": [{
            "id": SENT_MESSAGE_ID, "status": status, "recipient_id": CUSTOMER,
            "timestamp": chrono::Utc::now().timestamp().to_string()}]}))
            .await;
    }

    /// POSTs one change of `value` for the linked number to the Cloud API webhook,
    /// signed with the app secret.
    async fn meta_webhook(&self, mut value: Value) {
        value["messaging_product"] = json!("whatsapp");
        value["metadata"] =
            json!({"display_phone_number": "551140000000", "phone_number_id": PHONE_NUMBER_ID});
        let payload = json!({"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]});
        let body = serde_json::to_vec(&payload).expect("JSON");
        let signature = integrations::whatsapp::sign(APP_SECRET.as_bytes(), &body);
        let hook = self
            .app
            .client
            .post(self.url("/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", signature)
            .body(body)
            .send()
            .await
            .expect("request sent");
        assert_eq!(hook.status(), 200, "the webhook is accepted");
    }

    /// The full URL of `path` on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.app.address, path)
    }

    /// Navigates to `path` and waits for the page to load.
    pub async fn open(&self, path: &str) {
        self.page.goto(self.url(path)).await.expect("navigation");
    }

    /// The first element matching `selector`, waiting for it to appear.
    pub async fn wait_for(&self, selector: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(el) = self.page.find_element(selector).await {
                return el;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!(
                    "timed out waiting for {selector} on {}; JavaScript errors so far: {:?}",
                    self.location().await,
                    self.errors.lock().unwrap().clone()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Evaluates `js` (an expression; promises awaited) and returns its value.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .expect("evaluation parameters");
        self.page
            .evaluate_expression(params)
            .await
            .unwrap_or_else(|e| panic!("evaluating {js}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("the value of {js}: {e}"))
    }

    /// Waits until the JavaScript expression `js` is true.
    pub async fn wait_until(&self, what: &str, js: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.eval::<bool>(&format!("!!({js})")).await {
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!("timed out waiting until {what} ({js})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of the first element matching `selector`, once it exists.
    pub async fn text(&self, selector: &str) -> String {
        self.wait_for(selector)
            .await
            .inner_text()
            .await
            .expect("inner text")
            .unwrap_or_default()
    }

    /// Where the page is: path and query.
    pub async fn location(&self) -> String {
        self.eval("location.pathname + location.search").await
    }

    /// Presses `key` (e.g. "Tab", "Enter") on whatever has the focus.
    pub async fn press(&self, key: &str) {
        self.focus_target()
            .await
            .press_key(key)
            .await
            .expect("a key press");
    }

    /// Types `text` into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        self.page
            .execute(InsertTextParams::new(text))
            .await
            .expect("typing");
    }

    /// Clicks `selector` once it is there, centred first: an element left at the top edge
    /// sits under the sticky top bar, and the click would land on whatever covers it.
    pub async fn click(&self, selector: &str) {
        let element = self.wait_for(selector).await;
        let js = format!(
            "(() => {{ document.querySelector({sel}).scrollIntoView({{block: 'center'}}); return true; }})()",
            sel = serde_json::to_string(selector).unwrap(),
        );
        let _: bool = self.eval(&js).await;
        element.click().await.unwrap();
    }

    /// Puts `value` into the form control `selector` as a person would (its `input` and
    /// `change` events fire), and checks the control took it.
    pub async fn fill(&self, selector: &str, value: &str) {
        self.wait_for(selector).await;
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); el.focus(); el.value = {value};
               el.dispatchEvent(new Event('input', {{bubbles: true}}));
               el.dispatchEvent(new Event('change', {{bubbles: true}}));
               return el.value === {value}; }})()",
            sel = serde_json::to_string(selector).unwrap(),
            value = serde_json::to_string(value).unwrap(),
        );
        assert!(
            self.eval::<bool>(&js).await,
            "{selector} did not take {value:?}"
        );
    }

    /// Keys go to the focused element whatever element they are sent through.
    async fn focus_target(&self) -> Element {
        self.page.find_element("body").await.expect("a body")
    }

    /// The `id` (or tag) of the focused element.
    pub async fn focused(&self) -> String {
        self.eval("document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ''")
            .await
    }

    /// Tabs forward until the element with id `id` has the focus (at most 60 stops).
    pub async fn tab_to(&self, id: &str) {
        for _ in 0..60 {
            if self.focused().await == id {
                return;
            }
            self.press("Tab").await;
        }
        panic!("#{id} cannot be reached with the Tab key");
    }

    /// A tenant and its owner, made through the product's own paths.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("owner-{}@loja.example", Uuid::now_v7().simple());
        let id = self.app.register_tenant(name, &email).await;
        let owner = self.app.create_user(&email, Role::Owner, Some(id)).await;
        Tenant { id, owner }
    }

    /// Signs `user` in through the sign-in page and waits for their home: the inbox, or
    /// the admins' overview.
    pub async fn sign_in(&self, user: &TestUser) {
        self.open("/login").await;
        self.wait_for("#email")
            .await
            .click()
            .await
            .expect("a click");
        self.type_text(&user.email).await;
        self.wait_for("#password")
            .await
            .click()
            .await
            .expect("a click");
        self.type_text(&user.password).await;
        self.press("Enter").await;
        self.wait_for(".inbox, .admin-overview").await;
    }

    /// Sets the viewport to `width`×`height` CSS pixels.
    pub async fn viewport(&self, width: i64, height: i64) {
        *self.viewport.lock().unwrap() = Some((width, height));
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width,
                height,
                1.0,
                width < 600,
            ))
            .await
            .expect("the viewport changes");
    }

    /// Makes the system prefer `scheme` (`light` or `dark`).
    pub async fn prefer_color_scheme(&self, scheme: &str) {
        self.page
            .emulate_media_features(vec![MediaFeature {
                name: "prefers-color-scheme".into(),
                value: scheme.into(),
            }])
            .await
            .expect("media emulation");
    }

    /// Writes a PNG of the whole page to `<target>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        // Let fonts and the last render settle.
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.page
            .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
            .await
            .expect("a screenshot");
        // A full-page capture resizes the view to the page and then clears every override:
        // put the test's viewport back.
        let chosen = *self.viewport.lock().unwrap();
        if let Some((width, height)) = chosen {
            self.viewport(width, height).await;
        }
        path
    }

    /// Fails with every uncaught exception, `console.error`, CSP violation or failed
    /// console asset seen since the browser started.
    pub async fn assert_no_js_errors(&self) {
        // Errors are delivered as events: give the last ones a moment to arrive.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let errors = self.errors.lock().unwrap().clone();
        assert!(
            errors.is_empty(),
            "JavaScript errors:\n{}",
            errors.join("\n")
        );
    }

    /// Runs axe-core (vendored for tests, injected over CDP, never served) on the page and
    /// fails on any serious or critical violation.
    pub async fn assert_axe_clean(&self, what: &str) {
        let loaded: bool = self.eval("typeof window.axe === 'object'").await;
        if !loaded {
            let source = include_str!("../../console/test-vendor/axe.min.js");
            let _: Value = self.eval(&format!("{source};true")).await;
        }
        let found: Vec<Value> = self
            .eval(
                "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))",
            )
            .await;
        assert!(
            found.is_empty(),
            "{what}: serious or critical accessibility violations:\n{}",
            serde_json::to_string_pretty(&found).unwrap()
        );
    }

    /// Chooses the file at `path` in the file input `selector`, as the file dialog would.
    pub async fn choose_file(&self, selector: &str, path: &Path) {
        let input = self.wait_for(selector).await;
        let params = SetFileInputFilesParams::builder()
            .file(path.to_string_lossy().into_owned())
            .backend_node_id(input.backend_node_id)
            .build()
            .expect("file input parameters");
        self.page.execute(params).await.expect("the file is chosen");
    }

    /// Saves what the pages download into `dir`, under the names they give, as a person's
    /// browser would (reports export, issue 18).
    pub async fn save_downloads_to(&self, dir: &Path) {
        std::fs::create_dir_all(dir).expect("the download folder");
        let params = SetDownloadBehaviorParams::builder()
            .behavior(SetDownloadBehaviorBehavior::Allow)
            .download_path(dir.to_string_lossy().into_owned())
            .build()
            .expect("download parameters");
        self.browser
            .execute(params)
            .await
            .expect("downloads are allowed");
    }

    /// A new page in a browser context of its own (no cookie shared with the others): a
    /// second person at the console. Swap it into `page` to drive it; its JavaScript
    /// errors count with the first page's.
    pub async fn private_page(&self) -> Page {
        let context = self
            .browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .expect("a browser context");
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context)
            .build()
            .expect("a target");
        let page = self.browser.new_page(target).await.expect("a page");
        page.enable_log().await.expect("the Log domain");
        collect_errors(&page, self.errors.clone()).await;
        page
    }

    /// The page as its user sees it: axe-clean in both themes, screenshots of each, and
    /// nothing wider than a 360 px phone.
    pub async fn judge(&self, name: &str) {
        self.viewport(1280, 860).await;
        for scheme in ["light", "dark"] {
            self.prefer_color_scheme(scheme).await;
            self.assert_axe_clean(&format!("{name} ({scheme})")).await;
            self.screenshot(&format!("{name}-{scheme}")).await;
        }
        self.prefer_color_scheme("light").await;
        self.viewport(360, 740).await;
        assert!(
            !self.scrolls_sideways().await,
            "{name} scrolls sideways at 360 px: {:?}",
            self.too_wide().await
        );
        self.assert_axe_clean(&format!("{name} (phone)")).await;
        self.screenshot(&format!("phone-{name}")).await;
        self.viewport(1280, 860).await;
    }

    /// Whether the document is wider than the viewport (a horizontal scroll).
    pub async fn scrolls_sideways(&self) -> bool {
        self.eval("document.documentElement.scrollWidth > document.documentElement.clientWidth")
            .await
    }

    /// The innermost elements reaching past the viewport's right edge, as `tag.class`
    /// (what to fix when [`Console::scrolls_sideways`]).
    pub async fn too_wide(&self) -> Vec<String> {
        self.eval(
            "[...document.querySelectorAll('body *')]
               .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                 && ![...e.children].some((c) => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
               .slice(0, 5)
               .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))",
        )
        .await
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        // Chromium would otherwise outlive the test until the runtime reaps it.
        if let Some(child) = self.browser.get_mut_child() {
            let _ = child.as_mut_inner().start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `$CARGO_TARGET_DIR/screenshots`, else the `screenshots` folder of the target directory
/// this test binary was built into.
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("screenshots");
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/debug/deps/browser-<hash>
    exe.ancestors()
        .nth(3)
        .map(|target| target.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"))
}

async fn collect_errors(page: &Page, errors: Arc<Mutex<Vec<String>>>) {
    let mut exceptions = page
        .event_listener::<EventExceptionThrown>()
        .await
        .expect("exception events");
    let sink = errors.clone();
    tokio::spawn(async move {
        while let Some(e) = exceptions.next().await {
            let d = &e.exception_details;
            let detail = d
                .exception
                .as_ref()
                .and_then(|x| x.description.clone())
                .unwrap_or_default();
            sink.lock().unwrap().push(format!(
                "uncaught: {} {detail} at {}:{}",
                d.text,
                d.url.clone().unwrap_or_default(),
                d.line_number
            ));
        }
    });
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .expect("console events");
    let sink = errors.clone();
    tokio::spawn(async move {
        while let Some(e) = console.next().await {
            if matches!(e.r#type, ConsoleApiCalledType::Error) {
                let args: Vec<String> = e
                    .args
                    .iter()
                    .map(|a| {
                        a.value
                            .as_ref()
                            .map(|v| v.to_string())
                            .or_else(|| a.description.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                sink.lock()
                    .unwrap()
                    .push(format!("console.error: {}", args.join(" ")));
            }
        }
    });
    let mut log = page
        .event_listener::<EventEntryAdded>()
        .await
        .expect("log events");
    tokio::spawn(async move {
        while let Some(e) = log.next().await {
            let entry = &e.entry;
            if !matches!(entry.level, LogEntryLevel::Error) {
                continue;
            }
            let url = entry.url.clone().unwrap_or_default();
            // API refusals (a wrong password's 401, a refresh without a session) are the
            // app's business; a console file that fails to load is a bug.
            let relevant = match entry.source {
                LogEntrySource::Network => url.contains("/assets/"),
                _ => true,
            };
            if relevant {
                errors
                    .lock()
                    .unwrap()
                    .push(format!("{:?}: {} {url}", entry.source, entry.text));
            }
        }
    });
}
