//! Workers: reactions to stored events that reach outside the system (the AI responder,
//! the WhatsApp sender, the mailer, the 24 h timeout saga, the Stripe usage reporter).
//! They consume the same stream runners as projections do.
