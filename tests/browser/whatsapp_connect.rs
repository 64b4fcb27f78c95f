//! Connecting a phone from the console through Evolution's instance API: the owner creates
//! the instance, the QR code shows, and the page turns "connected" when the fake Evolution
//! server says the phone is open; the onboarding then counts WhatsApp as connected.

use crate::harness::Console;
use serde_json::json;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const GLOBAL_KEY: &str = "global-key-B6D711FCDE4D";
const INSTANCE_KEY: &str = "instance-key-8C1F02E7";
/// A 1×1 PNG, as Evolution sends its QR codes (base64, with a `data:` prefix).
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// `connectionState` answers whatever the test last set.
#[derive(Clone)]
struct Phone(Arc<Mutex<&'static str>>);

impl Respond for Phone {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let instance = request.url.path().rsplit('/').next().unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(
            json!({"instance": {"instanceName": instance, "state": *self.0.lock().unwrap()}}),
        )
    }
}

/// A fake Evolution API server (the documented shapes) whose phone starts `connecting`.
async fn fake_evolution() -> (MockServer, Phone) {
    let server = MockServer::start().await;
    let phone = Phone(Arc::new(Mutex::new("connecting")));
    Mock::given(method("POST"))
        .and(path("/instance/create"))
        .and(header("apikey", GLOBAL_KEY))
        .respond_with(move |req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(201).set_body_json(json!({
                "instance": {"instanceName": body["instanceName"],
                             "instanceId": "af6c5b7c-ee27-4f94-9ea8-192393746ddd", "status": "created"},
                "hash": INSTANCE_KEY,
                "qrcode": {"code": "2@y8eK+bjtEjUWy9/FOM", "base64": format!("data:image/png;base64,{PNG}")},
            }))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/instance/connect/.+$"))
        .and(header("apikey", INSTANCE_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pairingCode": "WZYEH1YY", "code": "2@y8eK+bjtEjUWy9/FOM",
            "base64": format!("data:image/png;base64,{PNG}"), "count": 1})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/instance/connectionState/.+$"))
        .and(header("apikey", INSTANCE_KEY))
        .respond_with(phone.clone())
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/webhook/set/.+$"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"webhook": {"enabled": true}})),
        )
        .mount(&server)
        .await;
    (server, phone)
}

#[tokio::test]
async fn an_owner_creates_an_evolution_instance_sees_its_qr_code_and_then_the_phone_connected() {
    let (evolution, phone) = fake_evolution().await;
    let url = evolution.uri();
    let console = Console::start_with(move |c| {
        c.background.whatsapp.evolution_api_url = Some(url);
        c.background.whatsapp.evolution_api_key = Some(GLOBAL_KEY.into());
    })
    .await;
    let tenant = console.tenant("Barbearia do Léo").await;
    console.sign_in(&tenant.owner).await;
    console.open("/whatsapp").await;
    console
        .wait_for("#tab-evolution")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_for("#create-instance")
        .await
        .click()
        .await
        .unwrap();

    let qr = console.wait_for("#evolution-qr").await;
    let src = qr.attribute("src").await.unwrap().unwrap_or_default();
    assert_eq!(
        src,
        format!("data:image/png;base64,{PNG}"),
        "the QR code is shown"
    );
    assert_eq!(
        console.text("#evolution-state").await,
        "Aguardando leitura do QR code"
    );
    console.assert_axe_clean("the QR code to scan").await;
    console.screenshot("whatsapp-evolution-qr").await;

    *phone.0.lock().unwrap() = "open";
    console.wait_for("#evolution-connected").await;
    assert_eq!(console.text("#evolution-state").await, "Conectado");
    console.screenshot("whatsapp-evolution-connected").await;

    // The onboarding counts the phone as connected.
    console.open("/welcome").await;
    console
        .wait_until(
            "WhatsApp is a step done",
            "document.querySelector('.step.done #step-head-whatsapp')",
        )
        .await;
    console.assert_no_js_errors().await;
}
