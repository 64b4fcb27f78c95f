//! The e-mails in English.

use super::{AiLimitKind, Block, Content, HandoffCause, Template, TicketCause};

pub(super) fn content(template: &Template) -> Content {
    let (subject, blocks) = match template {
        Template::Welcome {
            tenant_name,
            login_email,
            password,
            dashboard_url,
        } => (
            format!("Welcome to atende, {tenant_name}"),
            vec![
                Block::Para(format!(
                    "The {tenant_name} account is ready. Sign in to the dashboard with the \
                     details below and change the password when you first sign in."
                )),
                Block::Field("E-mail", login_email.clone()),
                Block::Field("Password", password.clone()),
                Block::Link("Open the dashboard", dashboard_url.clone()),
            ],
        ),
        Template::PaymentFailed {
            tenant_name,
            grace_until,
            billing_url,
        } => (
            format!("Payment failed: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "We could not charge the {tenant_name} subscription. Service continues \
                     until {grace_until}; after that the account will be suspended."
                )),
                Block::Link("Update the payment method", billing_url.clone()),
            ],
        ),
        Template::Suspended {
            tenant_name,
            billing_url,
        } => (
            format!("Account suspended: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "The {tenant_name} account was suspended and the AI stopped answering. \
                     Settle the subscription to reactivate it."
                )),
                Block::Link("Settle the subscription", billing_url.clone()),
            ],
        ),
        Template::Reactivated {
            tenant_name,
            dashboard_url,
        } => (
            format!("Account reactivated: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "The {tenant_name} account is active again and the AI is answering."
                )),
                Block::Link("Open the dashboard", dashboard_url.clone()),
            ],
        ),
        Template::AttendancePending {
            tenant_name,
            contact,
            conversation_url,
        } => (
            format!("Waiting for an agent: {contact}"),
            vec![
                Block::Para(format!(
                    "{contact} is waiting for a human agent at {tenant_name}."
                )),
                Block::Link("Open the conversation", conversation_url.clone()),
            ],
        ),
        Template::QuotaAlert {
            tenant_name,
            used,
            quota,
            period_last_day,
            billing_url,
        } => (
            format!("Message quota nearly used: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "{tenant_name} has used {used} of the {quota} AI answers its plan \
                     includes this period (until {period_last_day}). At the limit the AI \
                     stops answering and conversations go to your human team."
                )),
                Block::Link("See usage and change plan", billing_url.clone()),
            ],
        ),
        Template::HandedOff {
            tenant_name,
            contact,
            cause,
            conversation_url,
        } => (
            format!("Conversation handed to an agent: {contact}"),
            vec![
                Block::Para(format!(
                    "{tenant_name}'s automatic attendant handed the conversation with {contact} \
                     to a human agent: {}.",
                    match cause {
                        HandoffCause::CustomerAsked => "the customer asked to talk to a person",
                        HandoffCause::LowConfidence => "the knowledge base has no confident answer",
                        HandoffCause::QuotaReached =>
                            "the plan's AI messages for this period are used up",
                        HandoffCause::LimitReached => "an AI usage limit was reached",
                        HandoffCause::AiUnavailable => "the AI model did not answer",
                    }
                )),
                Block::Link("Answer now", conversation_url.clone()),
            ],
        ),
        Template::AiLimitNear {
            tenant_name,
            limit,
            used_percent,
            usage_url,
        } => (
            format!("{tenant_name}: {used_percent}% of an AI usage limit"),
            vec![
                Block::Para(format!(
                    "{tenant_name} has used {used_percent}% of its limit of {}. At 100% the AI \
                     stops answering and hands conversations to human agents.",
                    match limit {
                        AiLimitKind::RequestsPerHour => "AI requests per hour",
                        AiLimitKind::TokensPerDay => "tokens per day",
                        AiLimitKind::CostPerMonth => "AI cost per month",
                    }
                )),
                Block::Link("See the usage", usage_url.clone()),
            ],
        ),
        Template::TicketForAdmins {
            tenant_name,
            category,
            cause,
            ticket_url,
        } => (
            match cause {
                TicketCause::Opened => format!("New support ticket from {tenant_name}"),
                _ => format!("Support ticket from {tenant_name} waits for an admin"),
            },
            vec![
                Block::Para(format!(
                    "A {category} ticket from {tenant_name} needs an admin: {}.",
                    match cause {
                        TicketCause::Opened => "it was just opened",
                        TicketCause::AiHandedOff =>
                            "the support AI found no confident answer in the platform knowledge",
                        TicketCause::HumanRequested => "the tenant asked to talk to a person",
                    }
                )),
                Block::Link("Open the ticket", ticket_url.clone()),
            ],
        ),
        Template::TicketAnswered {
            tenant_name,
            by_ai,
            ticket_url,
        } => (
            format!("Support answered your ticket, {tenant_name}"),
            vec![
                Block::Para(if *by_ai {
                    "Our support assistant answered your ticket. If the answer does not \
                     solve it, reply or ask to talk to a person."
                        .to_owned()
                } else {
                    "Our support team answered your ticket.".to_owned()
                }),
                Block::Link("Read the answer", ticket_url.clone()),
            ],
        ),
        Template::Announcement {
            tenant_name,
            title,
            body,
            dashboard_url,
        } => (
            format!("{title} — atende"),
            std::iter::once(Block::Para(format!("A notice for {tenant_name}:")))
                // The Markdown's paragraphs, as plain text.
                .chain(
                    body.split("\n\n")
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| Block::Para(p.to_owned())),
                )
                .chain(std::iter::once(Block::Link(
                    "Open the dashboard",
                    dashboard_url.clone(),
                )))
                .collect(),
        ),
        Template::PasswordReset {
            reset_url,
            valid_minutes,
        } => (
            "Reset your atende password".to_owned(),
            vec![
                Block::Para(format!(
                    "We received a request to reset your password. The link below works \
                     once, for {valid_minutes} minutes."
                )),
                Block::Link("Choose a new password", reset_url.clone()),
                Block::Para(
                    "If you did not ask for this, ignore this e-mail: your password stays \
                     the same."
                        .to_owned(),
                ),
            ],
        ),
        Template::Invitation {
            tenant_name,
            login_email,
            accept_url,
            valid_hours,
        } => (
            format!("You are invited to answer {tenant_name}'s customers on atende"),
            vec![
                Block::Para(format!(
                    "You were invited to answer {tenant_name}'s customers on atende. Choose \
                     your password with the link below: it works once, for {valid_hours} hours."
                )),
                Block::Field("Your login", login_email.clone()),
                Block::Link("Choose my password", accept_url.clone()),
                Block::Para(
                    "If you did not expect this invitation, ignore this e-mail.".to_owned(),
                ),
            ],
        ),
    };
    Content {
        subject,
        blocks,
        signature: "The atende team",
    }
}
