//! The mailer against a real SMTP peer (`testkit::smtp::SmtpSink`) and the file outbox.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use integrations::mailer::{enqueue, status, Locale, NewMail, Template, Transport};
use sqlx::PgPool;
use std::time::Duration;
use testkit::smtp::SmtpSink;
use workers::mailer::{Mailer, MailerConfig};

fn reset_mail(key: &str, to: &str) -> NewMail {
    NewMail {
        idempotency_key: key.into(),
        to: to.into(),
        locale: Locale::En,
        template: Template::PasswordReset {
            reset_url: "https://app.example/reset-password?token=abc123".into(),
            valid_minutes: 60,
        },
    }
}

async fn queue(pool: &PgPool, mail: &NewMail) -> bool {
    let mut tx = pool.begin().await.unwrap();
    let inserted = enqueue(&mut tx, mail).await.unwrap();
    tx.commit().await.unwrap();
    inserted
}

fn fast_retries(max_attempts: i32) -> MailerConfig {
    MailerConfig {
        retry_base: Duration::from_millis(300),
        retry_max: Duration::from_secs(5),
        max_attempts,
        ..MailerConfig::default()
    }
}

async fn row(pool: &PgPool, key: &str) -> (String, i32, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT status, attempts, last_error, text_body FROM mail_outbox
         WHERE idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_queued_mail_arrives_at_the_sink_with_its_headers_and_bodies() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        MailerConfig::default(),
    );
    queue(&db.pool, &reset_mail("reset:1", "Ana@Example.com")).await;

    assert_eq!(mailer.run_once().await.unwrap(), 1);

    let received = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "no-reply@localhost");
    assert_eq!(mail.rcpt_to, vec!["Ana@Example.com".to_owned()]);
    assert_eq!(
        mail.header("From").as_deref(),
        Some("atende <no-reply@localhost>")
    );
    assert_eq!(mail.header("To").as_deref(), Some("Ana@Example.com"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your atende password")
    );
    let content_type = mail.header("Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let text = mail.body("text/plain").unwrap();
    assert!(
        text.contains("https://app.example/reset-password?token=abc123"),
        "{text}"
    );
    let html = mail.body("text/html").unwrap();
    assert!(
        html.contains("href=\"https://app.example/reset-password?token=abc123\""),
        "{html}"
    );
    let (state, attempts, _, body) = row(&db.pool, "reset:1").await;
    assert_eq!((state.as_str(), attempts), ("sent", 1));
    assert_eq!(body, None, "a sent mail's body is forgotten");
}

#[tokio::test]
async fn the_same_idempotency_key_twice_sends_once() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        MailerConfig::default(),
    );

    assert!(queue(&db.pool, &reset_mail("welcome:event-7", "a@example.com")).await);
    assert!(!queue(&db.pool, &reset_mail("welcome:event-7", "a@example.com")).await);
    mailer.run_once().await.unwrap();
    assert!(!queue(&db.pool, &reset_mail("welcome:event-7", "a@example.com")).await);
    mailer.run_once().await.unwrap();

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_mail_enqueued_in_a_rolled_back_transaction_is_never_sent() {
    let db = testkit::test_database().await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    enqueue(&mut tx, &reset_mail("reset:rolled-back", "a@example.com"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(status(&db.pool).await.unwrap().queued, 0);
}

#[tokio::test]
async fn a_refused_mail_is_retried_after_a_backoff_and_delivered() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    sink.refuse_data(1);
    let mailer = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        fast_retries(5),
    );
    queue(&db.pool, &reset_mail("reset:retry", "b@example.com")).await;

    mailer.run_once().await.unwrap();
    let (state, attempts, error, _) = row(&db.pool, "reset:retry").await;
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    assert!(error.unwrap().contains("451"));
    assert_eq!(
        mailer.run_once().await.unwrap(),
        0,
        "not due again before the backoff"
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    mailer.run_once().await.unwrap();

    assert_eq!(sink.refused(), 1);
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let (state, attempts, error, _) = row(&db.pool, "reset:retry").await;
    assert_eq!((state.as_str(), attempts, error), ("sent", 2, None));
}

#[tokio::test]
async fn a_mail_refused_at_every_attempt_is_failed_after_the_last_one() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    sink.refuse_data(u32::MAX);
    let config = MailerConfig {
        retry_base: Duration::from_millis(10),
        retry_max: Duration::from_millis(40),
        ..fast_retries(3)
    };
    let mailer = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        config,
    );
    queue(&db.pool, &reset_mail("reset:doomed", "c@example.com")).await;

    for _ in 0..100 {
        mailer.run_once().await.unwrap();
        if row(&db.pool, "reset:doomed").await.0 != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (state, attempts, error, body) = row(&db.pool, "reset:doomed").await;
    assert_eq!((state.as_str(), attempts), ("failed", 3));
    assert!(error.unwrap().contains("451"));
    assert_eq!(body, None);
    assert_eq!(sink.refused(), 3);
    assert!(sink.received().is_empty());
    let outbox = status(&db.pool).await.unwrap();
    assert_eq!((outbox.queued, outbox.failed), (0, 1));
    let told = stream::notifications::page(&db.pool, uuid::Uuid::now_v7(), None, false, 10)
        .await
        .unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].kind, "mail_given_up");
    assert!(told[0].detail["error"].as_str().unwrap().contains("451"));
}

#[tokio::test]
async fn without_smtp_each_mail_is_written_as_a_parseable_eml_file() {
    let db = testkit::test_database().await.unwrap();
    let dir = std::env::temp_dir().join(format!("atende-outbox-{}", uuid::Uuid::new_v4()));
    let mailer = Mailer::new(
        db.pool.clone(),
        Transport::files(&dir),
        MailerConfig::default(),
    );
    queue(&db.pool, &reset_mail("reset:file", "d@example.com")).await;

    mailer.run_once().await.unwrap();

    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM mail_outbox WHERE idempotency_key = 'reset:file'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![format!("{id}.eml")],
        "no temporary file is left"
    );
    let bytes = std::fs::read(dir.join(format!("{id}.eml"))).unwrap();
    let eml = testkit::smtp::ReceivedMail {
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        data: bytes,
    };
    assert_eq!(eml.header("To").as_deref(), Some("d@example.com"));
    assert_eq!(
        eml.header("Subject").as_deref(),
        Some("Reset your atende password")
    );
    assert!(eml
        .body("text/plain")
        .unwrap()
        .contains("https://app.example/reset-password?token=abc123"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_running_mailer_sends_on_notification_without_waiting_for_its_poll() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    let handle = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        MailerConfig {
            poll_interval: Duration::from_secs(3600),
            ..MailerConfig::default()
        },
    )
    .spawn();
    // Let it finish its first (empty) pass and start listening.
    tokio::time::sleep(Duration::from_millis(300)).await;

    queue(&db.pool, &reset_mail("reset:notified", "e@example.com")).await;

    let received = sink.wait_for(1, Duration::from_secs(5)).await;
    handle.stop().await;
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn two_mailers_sharing_an_outbox_send_each_mail_once() {
    let db = testkit::test_database().await.unwrap();
    let sink = SmtpSink::start().await.unwrap();
    for i in 0..20 {
        queue(
            &db.pool,
            &reset_mail(&format!("reset:{i}"), "f@example.com"),
        )
        .await;
    }
    let config = MailerConfig {
        batch_size: 2,
        ..MailerConfig::default()
    };
    let a = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        config.clone(),
    );
    let b = Mailer::new(
        db.pool.clone(),
        Transport::smtp(&sink.url()).unwrap(),
        config,
    );

    let (sent_a, sent_b) = tokio::join!(a.run_once(), b.run_once());

    assert_eq!(sent_a.unwrap() + sent_b.unwrap(), 20);
    assert_eq!(sink.wait_for(20, Duration::from_secs(5)).await.len(), 20);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.received().len(), 20);
}
