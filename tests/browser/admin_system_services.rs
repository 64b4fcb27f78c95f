//! The System page's outside services (issue 19): an admin sees which service in use does
//! not answer, and why, while the product stays up (degraded).

use crate::harness::Console;
use read_api::auth::Role;

#[tokio::test]
async fn an_admin_sees_on_the_system_page_that_the_mail_server_does_not_answer() {
    // A port nothing listens on: the SMTP check is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let console = Console::start_with(move |c| {
        c.background.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console.click("#main-nav a[href='/admin/system']").await;
    let card = "#health [data-service='smtp']";
    console.wait_for(card).await;
    let text = console.text(card).await;
    assert!(text.contains("Servidor de e-mail (SMTP)"), "{text}");
    assert!(text.contains("Sem resposta"), "{text}");
    assert!(
        console.text("main").await.contains("Degradado"),
        "an unreachable service degrades the service"
    );
    console.viewport(1280, 860).await;
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console
            .assert_axe_clean(&format!("admin-system-services ({scheme})"))
            .await;
        console
            .screenshot(&format!("admin-system-services-{scheme}"))
            .await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    assert!(
        !console.scrolls_sideways().await,
        "the system page scrolls sideways at 360 px: {:?}",
        console.too_wide().await
    );
    console
        .assert_axe_clean("admin-system-services (phone)")
        .await;
    console.screenshot("phone-admin-system-services").await;
    console.assert_no_js_errors().await;
}
