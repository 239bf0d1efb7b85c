//! The console's sign-in: passwords (argon2id), sessions (a random id in a cookie, stored as its
//! SHA-256, with its own CSRF token), idle and absolute expiry, and a throttle on failed
//! attempts per login and per client address. The API keeps its bearer tokens (`auth.rs`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rand::Rng;

use super::{App, AppError};
use crate::domain::directory::{Credentials, Locale};
use crate::domain::ids::UserId;
use crate::domain::role::Actor;

/// A signed-in console user, as each request finds them.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub actor: Actor,
    pub login: String,
    /// What every state-changing request of this session must carry.
    pub csrf_token: String,
    pub locale: Locale,
    /// Signed in with a printed one-time password: only the password page is open.
    pub must_change: bool,
}

/// A new session: the cookie's value (shown to the browser once) and the session.
pub struct SignedIn {
    pub cookie: String,
    pub session: Session,
}

/// Failed sign-ins tolerated per login in the window before each further one waits.
const FREE_FAILURES_PER_LOGIN: i64 = 5;
/// The same per client address (one office may share an address).
const FREE_FAILURES_PER_ADDRESS: i64 = 20;
/// Failures older than this are forgotten.
const FAILURE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// Shortest password a user may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 takes any length; a bound keeps a request's cost bounded).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// The argon2id PHC string of a password (the crate's defaults: 19 MiB, 2 passes — OWASP's
/// minimum). CPU work: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

/// Whether a password matches a stored PHC string (a malformed one matches nothing).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A one-time password to print: four groups of four from an alphabet without look-alikes
/// (0/O, 1/l/I), about 80 bits.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> = (0..4).map(|_| (0..4).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()).collect();
    groups.join("-")
}

/// Why a chosen password is refused, if it is.
pub fn password_problem(login: &str, password: &str) -> Option<AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(AppError::invalid("password_too_short", format!("a password has at least {MIN_PASSWORD_CHARS} characters")))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(AppError::invalid("password_too_long", format!("a password has at most {MAX_PASSWORD_BYTES} bytes")))
    } else if password.eq_ignore_ascii_case(login) {
        Some(AppError::invalid("password_is_login", "a password is not the login"))
    } else {
        None
    }
}

async fn hash_blocking(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| AppError::internal(format!("hashing: {e}")))?
}

async fn verify_blocking(password: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || verify_password(&password, &phc)).await.map_err(|e| AppError::internal(format!("verifying: {e}")))
}

/// Sets a user's password (hashing it here) and ends their sessions. `must_change` for a
/// printed one-time password.
pub async fn set_password(app: &App, user: UserId, password: &str, must_change: bool) -> Result<(), AppError> {
    let hash = hash_blocking(password.to_string()).await?;
    if !app.repo.set_password(user, &hash, must_change).await? {
        return Err(AppError::not_found("user_not_found", format!("user {user} not found")));
    }
    app.repo.end_sessions_of(user, app.now(), None).await?;
    Ok(())
}

/// Gives a user a login (`login_taken` when another user has it).
pub async fn set_login(app: &App, user: UserId, login: &str) -> Result<(), AppError> {
    if login.is_empty() || login.len() > 64 || !login.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)) {
        return Err(AppError::invalid("invalid_login", "a login is 1–64 letters, digits, '.', '_', '-' or '@'"));
    }
    match app.repo.set_login(user, login).await {
        Err(e) if e.is_conflict_on("users.login") => Err(AppError::conflict("login_taken", format!("login {login:?} is taken"))),
        other => Ok(other?),
    }
}

fn throttle_keys(login: &str, address: Option<&str>) -> Vec<String> {
    // No login is longer than 64: a longer one is counted under its first 64 characters.
    let login: String = login.chars().take(64).collect();
    let mut keys = vec![format!("login:{}", login.to_lowercase())];
    if let Some(a) = address {
        keys.push(format!("addr:{a}"));
    }
    keys
}

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1) as u64;
    AppError::TooManyRequests {
        code: "sign_in_throttled",
        detail: format!("too many failed sign-ins; try again in {secs} s"),
        retry_after_secs: secs,
    }
}

/// Signs in with a login and password from a client address. A wrong login and a wrong
/// password fail alike (and take as long); after a few failures each attempt waits.
pub async fn sign_in(app: &App, login: &str, password: &str, address: Option<&str>) -> Result<SignedIn, AppError> {
    let now = app.now();
    let keys = throttle_keys(login, address);
    if let Some(until) = app.repo.sign_in_locked_until(&keys).await? {
        if until > now {
            return Err(too_many(until, now));
        }
    }
    let found = if login.len() <= 64 { app.repo.credentials_by_login(login).await? } else { None };
    // An unknown login is checked against a dummy hash, so it costs what a known one does.
    let phc = found.as_ref().and_then(|c| c.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    let password = if password.len() > MAX_PASSWORD_BYTES { String::new() } else { password.to_string() };
    let matched = verify_blocking(password, phc).await? && found.as_ref().is_some_and(|c| c.password_hash.is_some());
    let Some(credentials) = found.filter(|_| matched) else {
        let since = now - FAILURE_WINDOW;
        for (key, free) in keys.iter().zip([FREE_FAILURES_PER_LOGIN, FREE_FAILURES_PER_ADDRESS]) {
            let failures = app.repo.record_sign_in_failure(key, now, since).await?;
            if let Some(wait) = super::throttle::lock_for(failures, free) {
                app.repo.lock_sign_in(key, now + wait).await?;
            }
        }
        tracing::info!(login, address, "console sign-in failed");
        return Err(AppError::SignInFailed);
    };
    app.repo.clear_sign_in_failures(&keys[0]).await?;
    let cookie = super::auth::new_token();
    let csrf_token = super::auth::new_token();
    let id_hash = super::auth::token_hash(&cookie);
    app.repo.create_session(&id_hash, credentials.user.id, &csrf_token, now).await?;
    let actor = actor_of(&credentials);
    app.repo
        .append_audit(&app.audit(&actor, "console.signed_in", "user", actor.id.to_string(), serde_json::json!({ "address": address })))
        .await?;
    Ok(SignedIn { cookie, session: session_of(id_hash, csrf_token, credentials) })
}

fn actor_of(c: &Credentials) -> Actor {
    Actor { id: c.user.id, name: c.user.name.clone(), role: c.user.role, branch_id: c.user.branch_id }
}

fn session_of(id_hash: String, csrf_token: String, c: Credentials) -> Session {
    Session { id_hash, actor: actor_of(&c), login: c.login, csrf_token, locale: c.locale, must_change: c.must_change }
}

/// The live session behind a cookie's value, if there is one: not ended, not idle longer than
/// the limit, not older than the absolute limit. Its last-seen time moves at most once a minute.
pub async fn session(app: &App, cookie: &str) -> Result<Option<Session>, AppError> {
    if cookie.is_empty() || cookie.len() > 256 {
        return Ok(None);
    }
    let id_hash = super::auth::token_hash(cookie);
    let Some(record) = app.repo.get_session(&id_hash).await? else { return Ok(None) };
    let now = app.now();
    let limits = app.sessions;
    let idle = chrono::Duration::from_std(limits.idle).unwrap_or(chrono::Duration::MAX);
    let absolute = chrono::Duration::from_std(limits.absolute).unwrap_or(chrono::Duration::MAX);
    if record.ended_at.is_some() || now - record.last_seen_at > idle || now - record.created_at > absolute {
        return Ok(None);
    }
    if now - record.last_seen_at > chrono::Duration::seconds(60) {
        app.repo.touch_session(&id_hash, now).await?;
    }
    Ok(Some(session_of(record.id_hash, record.csrf_token, record.credentials)))
}

/// Ends a session (sign-out).
pub async fn sign_out(app: &App, session: &Session) -> Result<(), AppError> {
    app.repo.end_session(&session.id_hash, app.now()).await?;
    Ok(())
}

/// A signed-in user chooses a new password: the current one must match; every other session of
/// the user ends, this one goes on.
pub async fn change_password(app: &App, session: &Session, current: &str, new: &str) -> Result<(), AppError> {
    let credentials = app.repo.credentials_of(session.actor.id).await?.ok_or(AppError::SignInFailed)?;
    let phc = credentials.password_hash.clone().unwrap_or_else(|| DUMMY_HASH.clone());
    if current.len() > MAX_PASSWORD_BYTES || !verify_blocking(current.to_string(), phc).await? {
        return Err(AppError::invalid("password_wrong", "the current password is not right"));
    }
    if let Some(problem) = password_problem(&credentials.login, new) {
        return Err(problem);
    }
    if new == current {
        return Err(AppError::invalid("password_unchanged", "the new password must differ from the current one"));
    }
    let hash = hash_blocking(new.to_string()).await?;
    app.repo.set_password(session.actor.id, &hash, false).await?;
    app.repo.end_sessions_of(session.actor.id, app.now(), Some(&session.id_hash)).await?;
    app.repo
        .append_audit(&app.audit(&session.actor, "console.password_changed", "user", session.actor.id.to_string(), serde_json::json!({})))
        .await?;
    Ok(())
}

/// Remembers the user's console language.
pub async fn set_locale(app: &App, session: &Session, locale: Locale) -> Result<(), AppError> {
    app.repo.set_locale(session.actor.id, locale).await?;
    Ok(())
}

/// The hash of a random password nobody knows, made once with the same parameters as every
/// other: checked when a login is unknown, so that costs what a known login does.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_password()).expect("argon2 hashes a fresh password"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterz", &phc));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(phc, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn the_dummy_hash_matches_nothing_simple() {
        assert!(PasswordHash::new(&DUMMY_HASH).is_ok());
        assert!(!verify_password("", &DUMMY_HASH));
        assert!(!verify_password("password", &DUMMY_HASH));
    }

    #[test]
    fn printed_passwords_are_long_and_unambiguous() {
        let p = new_password();
        assert_eq!(p.len(), 19, "{p}");
        assert!(!p.contains(['0', 'O', '1', 'l', 'I']), "{p}");
        assert_ne!(p, new_password());
        assert!(password_problem("rina", &p).is_none());
    }

    #[test]
    fn chosen_passwords_are_checked() {
        let code = |login: &str, password: &str| password_problem(login, password).map(|e| e.code());
        assert_eq!(code("rina", "short"), Some("password_too_short"));
        assert_eq!(code("rina.sales", "Rina.Sales"), Some("password_is_login"));
        assert_eq!(code("rina", &"x".repeat(300)), Some("password_too_long"));
        assert_eq!(code("rina", "long enough pass"), None);
    }
}
