//! Password hashing with argon2id, always off the async threads.

use super::ApiError;
use crate::domain::users::{Email, NewPassword, PersonName};
use crate::store::{self, Db};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::Rng;
use std::sync::LazyLock;

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A real hash of a random secret, checked against when the e-mail is unknown,
/// so an unknown address costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let secret: String = (0..24).map(|_| OsRng.gen_range('a'..='z')).collect();
    hash_now(&secret).unwrap_or_default()
});

pub(crate) async fn hash(password: NewPassword) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_now(password.expose()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "hashing task failed");
            ApiError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "argon2 hashing failed");
            ApiError::Internal
        })
}

/// Whether `candidate` matches `stored`; with no stored hash, checks a dummy and says no.
pub(crate) async fn verify(stored: Option<String>, candidate: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "verification task failed");
        ApiError::Internal
    })
}

/// Pays for the dummy hash at start, not on the first unknown sign-in.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// A readable random password for a new account (shown once to the admin).
pub(crate) fn generate_initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    let chars: Vec<char> = (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Creates the first admin from the environment at start, when no user exists yet.
/// Returns whether an admin was created.
pub async fn bootstrap_admin(
    db: &Db,
    name: &str,
    email: &str,
    password: &str,
) -> Result<bool, String> {
    let name = PersonName::parse("CALMROOM_ADMIN_NAME", name).map_err(|e| e.message)?;
    let email = Email::parse("CALMROOM_ADMIN_EMAIL", email).map_err(|e| e.message)?;
    let password =
        NewPassword::parse("CALMROOM_ADMIN_PASSWORD", password).map_err(|e| e.message)?;
    if store::users::count(db).await.map_err(|e| e.to_string())? > 0 {
        return Ok(false);
    }
    let hash = hash(password)
        .await
        .map_err(|_| "could not hash the password".to_owned())?;
    match store::users::create_first_admin(db, &name, &email, &hash, chrono::Utc::now()).await {
        Ok(_) => Ok(true),
        Err(store::users::UserChangeError::SetupDone) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_passwords_are_long_enough_and_differ() {
        let a = generate_initial_password();
        let b = generate_initial_password();
        assert!(NewPassword::parse("p", &a).is_ok());
        assert_eq!(a.len(), 23);
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let password = NewPassword::parse("p", "correct horse battery").expect("valid");
        let stored = hash(password).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(stored.clone()), "correct horse battery".into())
            .await
            .expect("verify"));
        assert!(!verify(Some(stored), "wrong horse battery".into())
            .await
            .expect("verify"));
        assert!(!verify(None, "correct horse battery".into())
            .await
            .expect("verify"));
    }
}
