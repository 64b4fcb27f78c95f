//! Password hashing (argon2id, default parameters), the password policy and generated
//! passwords. Hashing takes tens of milliseconds of CPU on purpose, so it runs on the
//! blocking pool, never on the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use std::sync::LazyLock;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Beyond this a "password" is an attempt to make hashing expensive.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Hashing or verification failed (a bug or a corrupt stored hash, never a wrong password).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused its input.
    #[error("hashing a password")]
    Hash(#[from] argon2::password_hash::Error),
    /// The blocking task panicked or was cancelled.
    #[error("the password hashing task did not finish")]
    Task(#[from] tokio::task::JoinError),
}

/// What a password breaks, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_CHARS`] characters.
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

/// Checks a new password against the policy (length only: composition rules make passwords
/// harder to remember without making them much harder to guess).
pub fn check_policy(password: &str) -> Result<(), PolicyViolation> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(PolicyViolation::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Err(PolicyViolation::TooLong)
    } else {
        Ok(())
    }
}

/// A random password of 24 base64url characters (144 bits), shown to its user once.
pub fn generate() -> String {
    let mut bytes = [0u8; 18];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hashes `password` with argon2id and a fresh salt, in PHC string format.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches the PHC `hash`.
pub async fn verify(password: String, hash: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || verify_now(&password, &hash)).await?
}

/// Does the work of [`verify`] against a throw-away hash and returns false, so a login for
/// an e-mail nobody has takes as long as one with a wrong password.
pub async fn verify_nobody(password: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || match DUMMY_HASH.as_deref() {
        Ok(dummy) => verify_now(&password, dummy).map(|_| false),
        Err(e) => Err(PasswordError::Hash(*e)),
    })
    .await?
}

/// Computes the throw-away hash now, so the first sign-in for an unknown e-mail does not
/// take longer than the others (which would tell it apart).
pub(crate) fn prepare() {
    LazyLock::force(&DUMMY_HASH);
}

/// Computed once, with the same parameters as real hashes, so it costs the same to check.
static DUMMY_HASH: LazyLock<Result<String, argon2::password_hash::Error>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(generate().as_bytes(), &salt)
        .map(|h| h.to_string())
});

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_now(password: &str, hash: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(hash)?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_accepts_its_password_only() {
        let hashed = hash("correct horse battery".into()).await.ok();
        let hashed = hashed.unwrap_or_default();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        let ok = verify("correct horse battery".into(), hashed.clone()).await;
        assert!(ok.is_ok_and(|ok| ok));
        let wrong = verify("correct horse battery!".into(), hashed).await;
        assert!(wrong.is_ok_and(|ok| !ok));
        assert!(verify_nobody("anything at all".into())
            .await
            .is_ok_and(|ok| !ok));
    }

    #[test]
    fn the_policy_wants_twelve_characters_and_generated_ones_pass_it() {
        assert_eq!(check_policy("elevenchars"), Err(PolicyViolation::TooShort));
        assert_eq!(check_policy("twelve chars"), Ok(()));
        assert_eq!(
            check_policy(&"x".repeat(2000)),
            Err(PolicyViolation::TooLong)
        );
        let generated = generate();
        assert!(generated.len() >= 16 && check_policy(&generated).is_ok());
    }
}
