//! Signing in and out as a person does it: with the keyboard, a wrong password first.

use crate::harness::Console;

#[tokio::test]
async fn an_owner_signs_in_with_the_keyboard_only_a_reload_keeps_the_session_and_sign_out_ends_it()
{
    let console = Console::start().await;
    let tenant = console.tenant("Padaria Pão Quente").await;
    console.open("/").await;
    // Signed out, the console sends the visitor to sign-in, whose e-mail field has focus.
    console
        .wait_until("the sign-in page shows", "location.pathname === '/login'")
        .await;
    console.wait_for("#email").await;
    assert_eq!(console.focused().await, "email");
    console.type_text(&tenant.owner.email).await;
    console.tab_to("password").await;
    console.type_text("not the password at all").await;
    console.press("Enter").await;
    let error = console.text("#signin-error").await;
    assert_eq!(error, "wrong e-mail or password", "the API's own message");
    console.screenshot("sign-in-wrong-password").await;

    // Fix the password with the keyboard: select what was typed and type over it.
    console
        .eval::<bool>("(document.getElementById('password').select(), true)")
        .await;
    console.type_text(&tenant.owner.password).await;
    console.press("Enter").await;
    console.wait_for(".inbox").await;
    assert_eq!(console.location().await, "/");
    let shown = console.text(".user-email").await;
    assert_eq!(shown, tenant.owner.email.to_lowercase());
    // The refresh token never reached the page.
    let cookies: String = console.eval("document.cookie").await;
    assert!(!cookies.contains("atende_refresh"), "{cookies}");

    console.page.reload().await.unwrap();
    console.wait_for(".inbox").await;
    assert_eq!(console.location().await, "/", "the reload kept the session");

    console
        .wait_for(".user-menu summary")
        .await
        .click()
        .await
        .unwrap();
    console.wait_for("#sign-out").await.click().await.unwrap();
    console
        .wait_until("the sign-in page shows", "location.pathname === '/login'")
        .await;
    console.page.reload().await.unwrap();
    console.wait_for("#email").await;
    assert_eq!(console.location().await, "/login", "signed out for good");
    console.assert_no_js_errors().await;
}
