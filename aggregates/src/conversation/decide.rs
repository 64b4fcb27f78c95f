//! The conversation's business rules: which event, if any, a command produces.

use super::TenantStatus;
use super::{Conversation, ConversationCommand, ConversationError, ConversationServices};
use schemas::events::{ConversationEvent as E, ConversationStatus as S, DeliveryStatus};
use schemas::Personal;
use uuid::Uuid;

type Decision = Result<Option<E>, ConversationError>;

fn valid_confidence(confidence: f64) -> Result<(), ConversationError> {
    // `contains` is false for NaN, which must be refused too.
    if (0.0..=1.0).contains(&confidence) {
        Ok(())
    } else {
        Err(ConversationError::InvalidConfidence)
    }
}

fn not_blank(text: &Personal<String>) -> Result<(), ConversationError> {
    if text.expose().trim().is_empty() {
        Err(ConversationError::TextRequired)
    } else {
        Ok(())
    }
}

impl Conversation {
    async fn tenant_status(
        tenant: Uuid,
        services: &ConversationServices,
    ) -> Result<TenantStatus, ConversationError> {
        let status = services
            .tenants
            .tenant_status(tenant)
            .await
            .map_err(ConversationError::Unavailable)?;
        match status {
            TenantStatus::Unknown => Err(ConversationError::TenantNotFound),
            known => Ok(known),
        }
    }

    fn ai_may_act(&self) -> Result<(), ConversationError> {
        match self.status {
            S::AiActive => Ok(()),
            other => Err(ConversationError::AiNotAllowed(other)),
        }
    }

    fn not_resolved(&self) -> Result<(), ConversationError> {
        match self.status {
            S::Resolved => Err(ConversationError::Resolved),
            _ => Ok(()),
        }
    }

    /// Existence and tenant checks that come before every rule but the first message's.
    async fn admit(
        &self,
        command: &ConversationCommand,
        services: &ConversationServices,
    ) -> Result<(), ConversationError> {
        if let ConversationCommand::ReceiveMessage { .. } = command {
            return Ok(());
        }
        let tenant = self.tenant_id.ok_or(ConversationError::NotFound)?;
        if command.requires_active_tenant()
            && Self::tenant_status(tenant, services).await? == TenantStatus::Suspended
        {
            return Err(ConversationError::TenantSuspended);
        }
        Ok(())
    }

    pub(super) async fn decide(
        &self,
        command: ConversationCommand,
        services: &ConversationServices,
    ) -> Decision {
        use ConversationCommand as C;
        self.admit(&command, services).await?;
        let at = services.clock.now();
        let outbound_id = || services.ids.new_id();
        Ok(match command {
            C::ReceiveMessage {
                tenant_id,
                contact_wa_id,
                contact_name,
                provider_message_id,
                content,
                sent_at,
            } => {
                if self.has_received(&provider_message_id) {
                    return Ok(None);
                }
                if provider_message_id.trim().is_empty() {
                    return Err(ConversationError::ProviderMessageIdRequired);
                }
                if self.tenant_id.is_some_and(|t| t != tenant_id) {
                    return Err(ConversationError::TenantMismatch);
                }
                // Only an unknown tenant is refused: a suspended tenant's customers still
                // wrote, and that fact is recorded.
                Self::tenant_status(tenant_id, services).await?;
                Some(E::MessageReceived {
                    tenant_id,
                    contact_wa_id,
                    contact_name,
                    provider_message_id,
                    content,
                    sent_at,
                    at,
                })
            }
            C::RecordAiReply {
                text,
                confidence,
                sources,
                model,
                tokens_in,
                tokens_out,
                run,
            } => {
                self.ai_may_act()?;
                valid_confidence(confidence)?;
                not_blank(&text)?;
                Some(E::AiReplied {
                    outbound_id: outbound_id(),
                    text,
                    confidence,
                    sources,
                    model,
                    tokens_in,
                    tokens_out,
                    run,
                    at,
                })
            }
            C::RecordLowConfidence {
                confidence,
                question,
                reason,
            } => {
                self.ai_may_act()?;
                valid_confidence(confidence)?;
                Some(E::ConfidenceLow {
                    outbound_id: outbound_id(),
                    confidence,
                    question,
                    reason,
                    at,
                })
            }
            C::RequestHuman { question } => match self.status {
                S::AiActive => Some(E::HumanRequested {
                    outbound_id: outbound_id(),
                    question,
                    at,
                }),
                S::AwaitingHuman | S::HumanReplied => None,
                S::Resolved => return Err(ConversationError::Resolved),
            },
            C::ReplyAsHuman { agent_id, text } => {
                self.not_resolved()?;
                not_blank(&text)?;
                if !self.is_customer_window_open(at) {
                    return Err(ConversationError::CustomerWindowClosed);
                }
                Some(E::HumanReplied {
                    outbound_id: outbound_id(),
                    agent_id,
                    text,
                    at,
                })
            }
            C::AssignAgent { agent_id } => {
                self.not_resolved()?;
                (self.assigned_agent != Some(agent_id)).then_some(E::AgentAssigned { agent_id, at })
            }
            C::ResumeAi { reason } => match self.status {
                S::AwaitingHuman | S::HumanReplied => Some(E::AiResumed {
                    outbound_id: outbound_id(),
                    reason,
                    at,
                }),
                S::AiActive | S::Resolved => None,
            },
            C::RecordDelivery {
                provider_message_id,
                status,
                error,
            } => {
                if provider_message_id.trim().is_empty() {
                    return Err(ConversationError::ProviderMessageIdRequired);
                }
                // Statuses can arrive out of order; one not beyond the recorded one is old news.
                let known = self.delivery_status(&provider_message_id);
                if known.is_some_and(|k| k.rank() >= status.rank()) {
                    return Ok(None);
                }
                Some(match status {
                    DeliveryStatus::Failed => E::OutboundFailed {
                        provider_message_id,
                        error,
                        at,
                    },
                    _ => E::OutboundDelivered {
                        provider_message_id,
                        status,
                        at,
                    },
                })
            }
            C::RecordOutboundSent {
                outbound_id,
                provider_message_id,
            } => {
                if provider_message_id.trim().is_empty() {
                    return Err(ConversationError::ProviderMessageIdRequired);
                }
                match self.outbound(outbound_id) {
                    None => return Err(ConversationError::UnknownOutbound),
                    // The sender retries after a crash; the same answer again is no news.
                    Some(Some(known)) if known == provider_message_id => None,
                    Some(Some(_)) => return Err(ConversationError::OutboundSentAsOther),
                    Some(None) => Some(E::OutboundSent {
                        outbound_id,
                        provider_message_id,
                        at,
                    }),
                }
            }
            C::RecordSendRefused { outbound_id, error } => match self.outbound(outbound_id) {
                None => return Err(ConversationError::UnknownOutbound),
                Some(Some(_)) => return Err(ConversationError::OutboundSentAsOther),
                Some(None) if self.is_refused(outbound_id) => None,
                Some(None) => Some(E::OutboundRefused {
                    outbound_id,
                    error,
                    at,
                }),
            },
            C::RecordPhoneReply {
                provider_message_id,
                text,
                sent_at,
            } => {
                if provider_message_id.trim().is_empty() {
                    return Err(ConversationError::ProviderMessageIdRequired);
                }
                // The provider echoes what atende itself sent as "from me" too.
                if self.has_received(&provider_message_id) || self.sent_as(&provider_message_id) {
                    return Ok(None);
                }
                Some(E::HumanRepliedFromPhone {
                    provider_message_id,
                    text,
                    sent_at,
                    at,
                })
            }
            C::Greet => (self.status == S::AiActive && !self.greeted).then(|| E::GreetingSent {
                outbound_id: outbound_id(),
                at,
            }),
            C::Resolve => (!self.is_resolved()).then_some(E::ConversationResolved { at }),
            // An erasure is a legal obligation: recorded whatever the conversation's state.
            C::EraseSubject { reason } => Some(E::SubjectErased { reason, at }),
        })
    }
}
