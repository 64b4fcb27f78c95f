//! Os e-mails em português do Brasil.

use super::{AiLimitKind, Block, Content, HandoffCause, Template, TicketCause};

pub(super) fn content(template: &Template) -> Content {
    let (subject, blocks) = match template {
        Template::Welcome {
            tenant_name,
            login_email,
            password,
            dashboard_url,
        } => (
            format!("Bem-vindo ao atende, {tenant_name}"),
            vec![
                Block::Para(format!(
                    "A conta de {tenant_name} está pronta. Entre no painel com os dados abaixo \
                     e troque a senha no primeiro acesso."
                )),
                Block::Field("E-mail", login_email.clone()),
                Block::Field("Senha", password.clone()),
                Block::Link("Abrir o painel", dashboard_url.clone()),
            ],
        ),
        Template::PaymentFailed {
            tenant_name,
            grace_until,
            billing_url,
        } => (
            format!("Pagamento não aprovado: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "Não conseguimos cobrar a assinatura de {tenant_name}. O atendimento \
                     continua até {grace_until}; depois disso a conta será suspensa."
                )),
                Block::Link("Atualizar a forma de pagamento", billing_url.clone()),
            ],
        ),
        Template::Suspended {
            tenant_name,
            billing_url,
        } => (
            format!("Conta suspensa: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "A conta de {tenant_name} foi suspensa e a IA parou de responder. \
                     Regularize a assinatura para reativá-la."
                )),
                Block::Link("Regularizar a assinatura", billing_url.clone()),
            ],
        ),
        Template::Reactivated {
            tenant_name,
            dashboard_url,
        } => (
            format!("Conta reativada: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "A conta de {tenant_name} está ativa de novo e a IA voltou a responder."
                )),
                Block::Link("Abrir o painel", dashboard_url.clone()),
            ],
        ),
        Template::AttendancePending {
            tenant_name,
            contact,
            conversation_url,
        } => (
            format!("Atendimento aguardando: {contact}"),
            vec![
                Block::Para(format!(
                    "{contact} está esperando um atendente humano em {tenant_name}."
                )),
                Block::Link("Abrir a conversa", conversation_url.clone()),
            ],
        ),
        Template::QuotaAlert {
            tenant_name,
            used,
            quota,
            period_last_day,
            billing_url,
        } => (
            format!("Cota de mensagens quase no fim: {tenant_name}"),
            vec![
                Block::Para(format!(
                    "{tenant_name} já usou {used} das {quota} respostas da IA incluídas no \
                     plano neste período (até {period_last_day}). Ao chegar ao limite, a IA \
                     deixa de responder e as conversas passam para a equipe humana."
                )),
                Block::Link("Ver o consumo e mudar de plano", billing_url.clone()),
            ],
        ),
        Template::HandedOff {
            tenant_name,
            contact,
            cause,
            conversation_url,
        } => (
            format!("Conversa passada para um atendente: {contact}"),
            vec![
                Block::Para(format!(
                    "O atendimento automático de {tenant_name} passou a conversa com {contact} \
                     para um atendente humano: {}.",
                    match cause {
                        HandoffCause::CustomerAsked => "o cliente pediu para falar com uma pessoa",
                        HandoffCause::LowConfidence =>
                            "a base de conhecimento não tem uma resposta segura",
                        HandoffCause::QuotaReached =>
                            "as mensagens de IA do plano neste período acabaram",
                        HandoffCause::LimitReached => "um limite de uso da IA foi atingido",
                        HandoffCause::AiUnavailable => "o modelo de IA não respondeu",
                    }
                )),
                Block::Link("Responder agora", conversation_url.clone()),
            ],
        ),
        Template::AiLimitNear {
            tenant_name,
            limit,
            used_percent,
            usage_url,
        } => (
            format!("{tenant_name}: {used_percent}% do limite de uso da IA"),
            vec![
                Block::Para(format!(
                    "{tenant_name} já usou {used_percent}% do limite de {}. Ao chegar a 100%, \
                     a IA deixa de responder e passa as conversas para atendentes humanos.",
                    match limit {
                        AiLimitKind::RequestsPerHour => "requisições à IA por hora",
                        AiLimitKind::TokensPerDay => "tokens por dia",
                        AiLimitKind::CostPerMonth => "custo de IA por mês",
                    }
                )),
                Block::Link("Ver o uso", usage_url.clone()),
            ],
        ),
        Template::TicketForAdmins {
            tenant_name,
            category,
            cause,
            ticket_url,
        } => (
            match cause {
                TicketCause::Opened => format!("Novo chamado de suporte de {tenant_name}"),
                _ => format!("Chamado de {tenant_name} aguarda um administrador"),
            },
            vec![
                Block::Para(format!(
                    "Um chamado ({category}) de {tenant_name} precisa de um administrador: {}.",
                    match cause {
                        TicketCause::Opened => "acabou de ser aberto",
                        TicketCause::AiHandedOff =>
                            "o assistente de suporte não encontrou resposta confiável na base de conhecimento da plataforma",
                        TicketCause::HumanRequested => "o cliente pediu para falar com uma pessoa",
                    }
                )),
                Block::Link("Abrir o chamado", ticket_url.clone()),
            ],
        ),
        Template::TicketAnswered {
            tenant_name,
            by_ai,
            ticket_url,
        } => (
            format!("O suporte respondeu seu chamado, {tenant_name}"),
            vec![
                Block::Para(if *by_ai {
                    "Nosso assistente de suporte respondeu seu chamado. Se a resposta não \
                     resolver, responda ou peça para falar com uma pessoa."
                        .to_owned()
                } else {
                    "Nossa equipe de suporte respondeu seu chamado.".to_owned()
                }),
                Block::Link("Ler a resposta", ticket_url.clone()),
            ],
        ),
        Template::Announcement {
            tenant_name,
            title,
            body,
            dashboard_url,
        } => (
            format!("{title} — atende"),
            std::iter::once(Block::Para(format!("Um aviso para {tenant_name}:")))
                // The Markdown's paragraphs, as plain text.
                .chain(
                    body.split("\n\n")
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| Block::Para(p.to_owned())),
                )
                .chain(std::iter::once(Block::Link(
                    "Abrir o painel",
                    dashboard_url.clone(),
                )))
                .collect(),
        ),
        Template::PasswordReset {
            reset_url,
            valid_minutes,
        } => (
            "Redefinição de senha do atende".to_owned(),
            vec![
                Block::Para(format!(
                    "Recebemos um pedido para redefinir a sua senha. O link abaixo vale por \
                     {valid_minutes} minutos e pode ser usado uma vez."
                )),
                Block::Link("Escolher uma nova senha", reset_url.clone()),
                Block::Para(
                    "Se você não pediu isso, ignore este e-mail: a sua senha continua a mesma."
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
            format!("Convite para atender os clientes de {tenant_name} no atende"),
            vec![
                Block::Para(format!(
                    "Você foi convidado para atender os clientes de {tenant_name} no atende. \
                     Escolha a sua senha pelo link abaixo: ele vale por {valid_hours} horas e \
                     pode ser usado uma vez."
                )),
                Block::Field("Seu login", login_email.clone()),
                Block::Link("Escolher minha senha", accept_url.clone()),
                Block::Para("Se você não esperava este convite, ignore este e-mail.".to_owned()),
            ],
        ),
    };
    Content {
        subject,
        blocks,
        signature: "Equipe atende",
    }
}
