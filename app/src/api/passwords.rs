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

/// How many passwords are hashed at once. argon2id takes 19 MiB per hash: a
/// burst of sign-ins queues here instead of taking the machine's memory.
const HASHERS: usize = 2;
/// How many hashes may wait for a hasher before sign-ins are told to retry.
const HASH_QUEUE: usize = 64;

type HashJob = Box<dyn FnOnce() + Send>;

/// A small pool of threads that do nothing but hash, so memory for at most
/// [`HASHERS`] hashes is ever in use (and kept by the allocator).
static HASH_POOL: LazyLock<Option<std::sync::mpsc::SyncSender<HashJob>>> = LazyLock::new(|| {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<HashJob>(HASH_QUEUE);
    let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
    for n in 0..HASHERS {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-hasher-{n}"))
            .spawn(move || loop {
                let job = match receiver.lock() {
                    Ok(receiver) => receiver.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a password hashing thread");
            return None;
        }
    }
    Some(sender)
});

/// Runs `work` on the hashing pool; a full queue answers 429 at once.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = done.send(work());
    });
    let Some(pool) = HASH_POOL.as_ref() else {
        return Err(ApiError::Internal);
    };
    match pool.try_send(job) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => {
            return Err(ApiError::TooManyRequests(
                "Many people are signing in right now. Try again in a few seconds.".to_owned(),
            ))
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
            tracing::error!("password hashing threads are gone");
            return Err(ApiError::Internal);
        }
    }
    result.await.map_err(|e| {
        tracing::error!(error = %e, "hashing job dropped");
        ApiError::Internal
    })
}

pub(crate) async fn hash(password: NewPassword) -> Result<String, ApiError> {
    on_hasher(move || hash_now(password.expose()))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "argon2 hashing failed");
            ApiError::Internal
        })
}

/// Whether `candidate` matches `stored`; with no stored hash, checks a dummy and says no.
pub(crate) async fn verify(stored: Option<String>, candidate: String) -> Result<bool, ApiError> {
    on_hasher(move || {
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
