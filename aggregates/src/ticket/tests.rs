use super::*;
use crate::clock::FixedClock;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use schemas::events::{AuthorKind, TicketEvent as E, TicketPriority, TicketStatus as S};
use std::sync::Arc;
use uuid::Uuid;

const TICKET: Uuid = Uuid::from_u128(9);
const TENANT: Uuid = Uuid::from_u128(1);
const ADMIN: Uuid = Uuid::from_u128(3);
const USER: Uuid = Uuid::from_u128(4);
const OTHER_TENANT: Uuid = Uuid::from_u128(2);
const ALL: [S; 4] = [S::Open, S::InProgress, S::Resolved, S::Closed];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn ticket() -> TestFramework<Ticket> {
    TestFramework::with(TicketServices::new(Arc::new(FixedClock::new(t0()))))
}

fn open_with(category: &str, subject: &str) -> TicketCommand {
    TicketCommand::OpenTicket {
        ticket_id: TICKET,
        tenant_id: TENANT,
        category: category.into(),
        subject: subject.into(),
        description: "O bot não responde desde ontem.".into(),
        priority: TicketPriority::High,
        attachments: vec![],
    }
}

fn open_with_files(attachments: Vec<NewAttachment>) -> TicketCommand {
    match open() {
        TicketCommand::OpenTicket {
            ticket_id,
            tenant_id,
            category,
            subject,
            description,
            priority,
            ..
        } => TicketCommand::OpenTicket {
            ticket_id,
            tenant_id,
            category,
            subject,
            description,
            priority,
            attachments,
        },
        other => other,
    }
}

fn open() -> TicketCommand {
    open_with("whatsapp", "Bot parado")
}

fn opened() -> E {
    E::TicketOpened {
        ticket_id: TICKET,
        tenant_id: TENANT,
        category: "whatsapp".into(),
        subject: "Bot parado".into(),
        description: "O bot não responde desde ontem.".into(),
        priority: TicketPriority::High,
        at: t0(),
    }
}

fn moved(from: S, to: S) -> E {
    E::TicketStatusChanged { from, to, at: t0() }
}

/// The events that bring an opened ticket to `status` along allowed transitions.
fn history_to(status: S) -> Vec<E> {
    let path = [S::Open, S::InProgress, S::Resolved, S::Closed];
    let steps = path.iter().position(|s| *s == status).unwrap();
    let mut events = vec![opened()];
    events.extend(path.windows(2).take(steps).map(|w| moved(w[0], w[1])));
    events
}

fn ai_answer(confidence: f64) -> TicketCommand {
    TicketCommand::RecordAiAnswer {
        text: "Reconecte o número em Configurações.".into(),
        confidence,
        sources: vec!["platform:1:0".into()],
    }
}

fn awaiting() -> E {
    E::TicketAwaitingAdmin { at: t0() }
}

fn admin_says(text: &str) -> TicketCommand {
    TicketCommand::AddMessage {
        author: Author::Admin { admin_id: ADMIN },
        text: text.into(),
        attachments: vec![],
    }
}

fn tenant_says(tenant_id: Uuid, text: &str) -> TicketCommand {
    TicketCommand::AddMessage {
        author: Author::Tenant {
            tenant_id,
            user_id: USER,
        },
        text: text.into(),
        attachments: vec![],
    }
}

fn admin_said(text: &str) -> E {
    E::TicketMessageAdded {
        author_kind: AuthorKind::Admin,
        author_id: ADMIN.to_string(),
        text: text.into(),
        at: t0(),
    }
}

fn file(n: u128) -> NewAttachment {
    NewAttachment {
        attachment_id: Uuid::from_u128(100 + n),
        name: format!("print-{n}.png").into(),
        size: 2048,
        content_type: "image/png".into(),
        sha256: "ab".repeat(32),
    }
}

fn file_added(n: u128, author_kind: AuthorKind) -> E {
    E::TicketAttachmentAdded {
        attachment_id: Uuid::from_u128(100 + n),
        author_kind,
        name: format!("print-{n}.png").into(),
        size: 2048,
        content_type: "image/png".into(),
        sha256: "ab".repeat(32),
        at: t0(),
    }
}

fn error_of(events: Vec<E>, command: TicketCommand) -> TicketError {
    ticket()
        .given(events)
        .when(command)
        .inspect_result()
        .unwrap_err()
}

fn state(events: Vec<E>) -> Ticket {
    let mut t = Ticket::default();
    events.into_iter().for_each(|e| t.apply(e));
    t
}

#[test]
fn a_tenant_opens_a_ticket() {
    ticket()
        .given_no_previous_events()
        .when(open())
        .then_expect_events(vec![opened()]);
    let t = state(vec![opened()]);
    assert_eq!(
        (t.exists(), t.status(), t.tenant_id()),
        (true, S::Open, Some(TENANT))
    );
}

#[test]
fn opening_a_ticket_twice_is_refused() {
    let err = error_of(vec![opened()], open());
    assert_eq!(
        (err.code(), err.kind()),
        ("ticket_already_opened", ErrorKind::Conflict)
    );
}

#[test]
fn a_blank_subject_or_category_is_refused() {
    let err = error_of(vec![], open_with("whatsapp", "  "));
    assert_eq!(
        (err.code(), err.kind()),
        ("subject_required", ErrorKind::Unprocessable)
    );
    assert_eq!(
        error_of(vec![], open_with("", "Bot parado")).code(),
        "category_required"
    );
}

#[test]
fn commands_before_opening_find_no_ticket() {
    for command in [
        TicketCommand::AwaitAdmin,
        TicketCommand::ChangeStatus { to: S::InProgress },
    ] {
        let err = error_of(vec![], command);
        assert_eq!(
            (err.code(), err.kind()),
            ("ticket_not_found", ErrorKind::NotFound)
        );
    }
}

#[test]
fn a_confident_ai_answer_is_recorded() {
    ticket()
        .given(vec![opened()])
        .when(ai_answer(0.71))
        .then_expect_events(vec![E::TicketAiAnswerGiven {
            text: "Reconecte o número em Configurações.".into(),
            confidence: 0.71,
            sources: vec!["platform:1:0".into()],
            at: t0(),
        }]);
}

#[test]
fn an_ai_answer_not_above_0_7_is_refused() {
    let err = error_of(vec![opened()], ai_answer(0.7));
    assert_eq!(
        (err.code(), err.kind()),
        ("ai_not_confident", ErrorKind::Unprocessable)
    );
    assert_eq!(
        error_of(vec![opened()], ai_answer(f64::NAN)).code(),
        "invalid_confidence"
    );
}

#[test]
fn the_ai_does_not_answer_a_ticket_waiting_for_an_admin() {
    let err = error_of(vec![opened(), awaiting()], ai_answer(0.9));
    assert_eq!(
        (err.code(), err.kind()),
        ("ai_not_allowed", ErrorKind::Conflict)
    );
}

#[test]
fn waiting_for_an_admin_is_recorded_once() {
    ticket()
        .given(vec![opened()])
        .when(TicketCommand::AwaitAdmin)
        .then_expect_events(vec![awaiting()]);
    ticket()
        .given(vec![opened(), awaiting()])
        .when(TicketCommand::AwaitAdmin)
        .then_expect_events(vec![]);
}

#[test]
fn an_admin_message_is_added_and_ends_the_wait() {
    let added = admin_said("Verificamos.");
    ticket()
        .given(vec![opened(), awaiting()])
        .when(admin_says("Verificamos."))
        .then_expect_events(vec![added.clone()]);
    let t = state(vec![opened(), awaiting(), added]);
    assert_eq!((t.is_awaiting_admin(), t.message_count()), (false, 1));
}

#[test]
fn a_blank_message_is_refused() {
    let err = error_of(vec![opened()], admin_says(" "));
    assert_eq!(
        (err.code(), err.kind()),
        ("text_required", ErrorKind::Unprocessable)
    );
}

#[test]
fn assigning_an_admin_is_recorded_once() {
    let assigned = E::TicketAssigned {
        admin_id: ADMIN,
        at: t0(),
    };
    let assign = || TicketCommand::Assign { admin_id: ADMIN };
    ticket()
        .given(vec![opened()])
        .when(assign())
        .then_expect_events(vec![assigned.clone()]);
    ticket()
        .given(vec![opened(), assigned])
        .when(assign())
        .then_expect_events(vec![]);
}

#[test]
fn allowed_transitions_are_recorded_with_both_statuses() {
    for (from, to) in [
        (S::Open, S::InProgress),
        (S::InProgress, S::Resolved),
        (S::Resolved, S::Closed),
        (S::Resolved, S::Open),
    ] {
        assert!(is_allowed_transition(from, to));
        ticket()
            .given(history_to(from))
            .when(TicketCommand::ChangeStatus { to })
            .then_expect_events(vec![moved(from, to)]);
    }
}

#[test]
fn any_other_transition_is_refused() {
    for from in [S::Open, S::InProgress, S::Resolved] {
        for to in ALL
            .into_iter()
            .filter(|to| *to != from && !is_allowed_transition(from, *to))
        {
            let err = error_of(history_to(from), TicketCommand::ChangeStatus { to });
            assert_eq!(err, TicketError::InvalidTransition { from, to });
            assert_eq!(
                (err.code(), err.kind()),
                ("invalid_transition", ErrorKind::Conflict)
            );
        }
    }
}

#[test]
fn changing_to_the_current_status_records_nothing() {
    for status in [S::Open, S::InProgress, S::Resolved] {
        ticket()
            .given(history_to(status))
            .when(TicketCommand::ChangeStatus { to: status })
            .then_expect_events(vec![]);
    }
}

#[test]
fn a_closed_ticket_refuses_every_command() {
    let commands = [
        open(),
        ai_answer(0.9),
        TicketCommand::AwaitAdmin,
        admin_says("oi"),
        TicketCommand::Assign { admin_id: ADMIN },
        TicketCommand::ChangeStatus { to: S::Open },
        TicketCommand::ChangeStatus { to: S::Closed },
    ];
    for command in commands {
        let err = error_of(history_to(S::Closed), command);
        assert_eq!(
            (err.code(), err.kind()),
            ("ticket_closed", ErrorKind::Conflict)
        );
    }
    assert!(ALL.iter().all(|to| !is_allowed_transition(S::Closed, *to)));
}

#[test]
fn the_aggregate_type_is_the_stored_ticket_string() {
    assert_eq!(Ticket::TYPE, "ticket");
}

#[test]
fn a_ticket_opened_with_files_records_each_file_after_the_opening() {
    let command = open_with_files(vec![file(1), file(2)]);
    ticket()
        .given_no_previous_events()
        .when(command)
        .then_expect_events(vec![
            opened(),
            file_added(1, AuthorKind::Tenant),
            file_added(2, AuthorKind::Tenant),
        ]);
}

#[test]
fn more_than_five_files_in_one_message_are_refused() {
    let command = open_with_files((1..=6).map(file).collect());
    let err = error_of(vec![], command);
    assert_eq!(
        (err.code(), err.kind()),
        ("too_many_attachments", ErrorKind::Unprocessable)
    );
    let reply = TicketCommand::AddMessage {
        author: Author::Admin { admin_id: ADMIN },
        text: "Veja".into(),
        attachments: (1..=6).map(file).collect(),
    };
    assert_eq!(
        error_of(vec![opened()], reply).code(),
        "too_many_attachments"
    );
}

#[test]
fn the_tenant_writes_a_public_message_on_its_own_ticket() {
    ticket()
        .given(vec![opened()])
        .when(tenant_says(TENANT, "Ainda parado."))
        .then_expect_events(vec![E::TicketMessageAdded {
            author_kind: AuthorKind::Tenant,
            author_id: USER.to_string(),
            text: "Ainda parado.".into(),
            at: t0(),
        }]);
}

#[test]
fn another_tenant_finds_no_ticket_to_write_on_close_or_ask_about() {
    for command in [
        tenant_says(OTHER_TENANT, "oi"),
        TicketCommand::CloseByTenant {
            tenant_id: OTHER_TENANT,
        },
        TicketCommand::RequestHuman {
            tenant_id: OTHER_TENANT,
            user_id: USER,
        },
    ] {
        let err = error_of(vec![opened()], command.clone());
        assert_eq!(
            (err.code(), err.kind()),
            ("ticket_not_found", ErrorKind::NotFound)
        );
        // Not even a closed ticket's state leaks to another tenant.
        assert_eq!(
            error_of(history_to(S::Closed), command),
            TicketError::NotFound
        );
    }
}

#[test]
fn the_tenant_writing_on_a_resolved_ticket_reopens_it() {
    ticket()
        .given(history_to(S::Resolved))
        .when(tenant_says(TENANT, "Voltou a falhar."))
        .then_expect_events(vec![
            E::TicketMessageAdded {
                author_kind: AuthorKind::Tenant,
                author_id: USER.to_string(),
                text: "Voltou a falhar.".into(),
                at: t0(),
            },
            moved(S::Resolved, S::Open),
        ]);
}

#[test]
fn an_admin_adds_an_internal_note() {
    ticket()
        .given(vec![opened()])
        .when(TicketCommand::AddInternalNote {
            admin_id: ADMIN,
            text: "Cliente antigo.".into(),
        })
        .then_expect_events(vec![E::TicketInternalNoteAdded {
            admin_id: ADMIN,
            text: "Cliente antigo.".into(),
            at: t0(),
        }]);
    let blank = TicketCommand::AddInternalNote {
        admin_id: ADMIN,
        text: " ".into(),
    };
    assert_eq!(error_of(vec![opened()], blank).code(), "text_required");
}

#[test]
fn an_admin_reply_silences_the_ai() {
    let t = state(vec![opened(), admin_said("Estamos vendo.")]);
    assert!(!t.ai_may_answer());
    let err = error_of(
        vec![opened(), admin_said("Estamos vendo.")],
        ai_answer(0.95),
    );
    assert_eq!(
        (err.code(), err.kind()),
        ("ai_not_allowed", ErrorKind::Conflict)
    );
    // Nor does the AI hand a ticket an admin is answering back to the queue.
    ticket()
        .given(vec![opened(), admin_said("Estamos vendo.")])
        .when(TicketCommand::AwaitAdmin)
        .then_expect_events(vec![]);
}

#[test]
fn the_ai_does_not_answer_a_ticket_an_admin_took() {
    let taken = E::TicketAssigned {
        admin_id: ADMIN,
        at: t0(),
    };
    assert_eq!(
        error_of(vec![opened(), taken], ai_answer(0.95)),
        TicketError::AiNotAllowed
    );
}

#[test]
fn the_tenant_asks_for_a_human_once_and_the_ai_stays_silent() {
    let asked = E::TicketHumanRequested {
        user_id: USER,
        at: t0(),
    };
    let ask = || TicketCommand::RequestHuman {
        tenant_id: TENANT,
        user_id: USER,
    };
    ticket()
        .given(vec![opened()])
        .when(ask())
        .then_expect_events(vec![asked.clone()]);
    ticket()
        .given(vec![opened(), asked.clone()])
        .when(ask())
        .then_expect_events(vec![]);
    assert!(state(vec![opened(), asked.clone()]).is_awaiting_admin());
    assert_eq!(
        error_of(vec![opened(), asked], ai_answer(0.95)),
        TicketError::AiNotAllowed
    );
}

#[test]
fn the_tenant_closes_its_own_ticket_from_any_open_status() {
    for from in [S::Open, S::InProgress, S::Resolved] {
        ticket()
            .given(history_to(from))
            .when(TicketCommand::CloseByTenant { tenant_id: TENANT })
            .then_expect_events(vec![moved(from, S::Closed)]);
    }
}

#[test]
fn a_closed_ticket_refuses_messages_from_its_tenant_and_admins() {
    for command in [
        tenant_says(TENANT, "oi"),
        admin_says("oi"),
        TicketCommand::AddInternalNote {
            admin_id: ADMIN,
            text: "nota".into(),
        },
        TicketCommand::RequestHuman {
            tenant_id: TENANT,
            user_id: USER,
        },
        TicketCommand::CloseByTenant { tenant_id: TENANT },
    ] {
        assert_eq!(
            error_of(history_to(S::Closed), command),
            TicketError::Closed
        );
    }
}

#[test]
fn a_legacy_ai_answer_still_counts_as_a_message() {
    let legacy = E::TicketAiAnswered {
        text: "Veja".into(),
        confidence: 0.9,
        at: t0(),
    };
    assert_eq!(state(vec![opened(), legacy]).message_count(), 1);
}
