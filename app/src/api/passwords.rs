//! Password hashing with argon2id, always off the async threads.

use super::ApiError;
use crate::domain::users::{Email, NewPassword, PersonName};
use crate::store::{self, Db};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::Rng;
use std::sync::LazyLock;

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), the same as the
/// argon2 crate's own `hash_password` writes, so stored hashes stay compatible.
fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_bytes)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        // argon2 allocates its working memory (19 MiB) for this hash and frees
        // it on return, so it goes back to the system between bursts.
        argon2
            .hash_password_into(password.as_bytes(), raw_salt, out)
            .map_err(argon2::password_hash::Error::from)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `candidate` hashes to the stored PHC string (compared in constant time).
fn matches(stored: &str, candidate: &str) -> bool {
    let check = || -> Result<bool, argon2::password_hash::Error> {
        let parsed = PasswordHash::new(stored)?;
        let expected = parsed.hash.ok_or(argon2::password_hash::Error::Password)?;
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v)?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed)?;
        let salt = parsed
            .salt
            .ok_or(argon2::password_hash::Error::SaltInvalid(
                argon2::password_hash::errors::InvalidValue::Malformed,
            ))?;
        let mut salt_bytes = [0u8; 64];
        let raw_salt = salt.decode_b64(&mut salt_bytes)?;
        let argon2 = Argon2::new(algorithm, version, params);
        let computed = Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into(candidate.as_bytes(), raw_salt, out)
                .map_err(argon2::password_hash::Error::from)
        })?;
        Ok(computed == expected)
    };
    check().unwrap_or(false)
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
const HASH_QUEUE: usize = 512;

type HashJob = Box<dyn FnOnce() + Send>;

/// A small pool of threads that do nothing but hash, so memory for at most
/// [`HASHERS`] hashes is ever in use.
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
        let matched = matches(&hash, &candidate);
        known && matched
    })
    .await
}

/// Pays for the dummy hash at start, not on the first unknown sign-in, on a
/// hashing thread like every other hash.
pub async fn warm_up() -> Result<(), ApiError> {
    on_hasher(|| {
        LazyLock::force(&DUMMY_HASH);
    })
    .await
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

    #[test]
    fn hashes_are_the_argon2_crates_own_format_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_now("correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(matches(&theirs, "correct horse battery"));
        assert!(!matches(&theirs, "correct horse batter"));
        assert!(!matches("not a hash", "anything"));
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
