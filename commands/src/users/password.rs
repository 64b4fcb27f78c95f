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

/// A new random password and its hash, for an account the product creates (a tenant's
/// first owner). A few are kept ready, hashed by a background thread, so the request that
/// creates an account (Stripe's webhook, which must answer quickly) does not wait the tens of
/// milliseconds of hashing; when the reserve is empty (the first call of a process starts
/// filling it) the pair is made on the spot. The passwords in the reserve belong to nobody
/// until handed out and never leave memory.
pub async fn generated() -> Result<(String, String), PasswordError> {
    if let Some(pair) = RESERVE.take() {
        return Ok(pair);
    }
    let secret = generate();
    let hash = hash(secret.clone()).await?;
    Ok((secret, hash))
}

/// Pairs of [`generated`] made ahead of time.
struct Reserve {
    ready: std::sync::Mutex<std::sync::mpsc::Receiver<(String, String)>>,
}

/// How many generated credentials are kept ready.
const RESERVE_SIZE: usize = 4;

impl Reserve {
    fn start() -> Reserve {
        let (tx, rx) = std::sync::mpsc::sync_channel(RESERVE_SIZE);
        let filler = std::thread::Builder::new()
            .name("password-reserve".into())
            .spawn(move || loop {
                let secret = generate();
                let Ok(hash) = hash_now(&secret) else {
                    return;
                };
                // Blocks while the reserve is full; ends with the process.
                if tx.send((secret, hash)).is_err() {
                    return;
                }
            });
        if let Err(e) = filler {
            tracing::warn!(error = %e, "no password reserve: generated passwords are hashed on demand");
        }
        Reserve {
            ready: std::sync::Mutex::new(rx),
        }
    }

    fn take(&self) -> Option<(String, String)> {
        self.ready.lock().ok()?.try_recv().ok()
    }
}

static RESERVE: LazyLock<Reserve> = LazyLock::new(Reserve::start);

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
pub fn prepare() {
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

    #[tokio::test]
    async fn generated_credentials_from_the_reserve_or_made_on_the_spot_are_distinct_and_match() {
        // The first call finds the reserve empty; later ones may take ready pairs.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..RESERVE_SIZE + 2 {
            let (secret, hashed) = generated().await.unwrap_or_default();
            assert!(check_policy(&secret).is_ok());
            assert!(verify(secret.clone(), hashed).await.is_ok_and(|ok| ok));
            assert!(
                seen.insert(secret),
                "a generated password was handed out twice"
            );
        }
    }
}
