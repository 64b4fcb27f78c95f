//! E-mail addresses as user names: compared lowercased, checked only for plausible shape
//! (the mailer will prove deliverability).

/// The longest address SMTP can carry.
const MAX_LEN: usize = 254;

/// The address trimmed and lowercased, as stored and compared.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a normalized address looks like one: `local@domain.tld`, no spaces.
pub fn is_plausible(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_LEN
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_compared_lowercased_and_trimmed() {
        assert_eq!(normalize("  Ana@Oficina.Example "), "ana@oficina.example");
    }

    #[test]
    fn only_plausible_addresses_pass() {
        assert!(is_plausible("ana@oficina.example"));
        for bad in [
            "",
            "ana",
            "@x.io",
            "ana@",
            "ana@localhost",
            "a b@x.io",
            "a@b@x.io",
            "a@x.",
        ] {
            assert!(!is_plausible(bad), "{bad}");
        }
    }
}
