//! The console's sign-in: logins and password hashes, sessions, and the throttle on failed
//! attempts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;
use crate::domain::directory::{Credentials, Locale};
use crate::domain::ids::UserId;

/// A stored session with the user it signs in (whatever the user is now: a changed role or
/// branch applies at the next request).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub credentials: Credentials,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Gives a user a console login; `Conflict { constraint: "users.login" }` when another user
    /// has it.
    async fn set_login(&self, user: UserId, login: &str) -> Result<(), RepoError>;
    /// Sets a password hash and whether it must be changed at the next sign-in; false when the
    /// user does not exist.
    async fn set_password(&self, user: UserId, password_hash: &str, must_change: bool) -> Result<bool, RepoError>;
    async fn set_locale(&self, user: UserId, locale: Locale) -> Result<(), RepoError>;
    /// The user behind a login (exact match), with the password hash.
    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>, RepoError>;
    async fn credentials_of(&self, user: UserId) -> Result<Option<Credentials>, RepoError>;
    async fn create_session(&self, id_hash: &str, user: UserId, csrf_token: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    /// A session by the hash of its id, ended or not (the caller judges expiry).
    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, RepoError>;
    /// Moves a live session's last-seen time forward (never back).
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    /// Ends one session (sign-out); ending an ended one changes nothing.
    async fn end_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    /// Ends every live session of a user but `except` (a password set, reset or changed in that
    /// session); returns how many.
    async fn end_sessions_of(&self, user: UserId, at: DateTime<Utc>, except: Option<&str>) -> Result<u64, RepoError>;
    /// Counts one failed sign-in under a throttle key and returns the failures counted since
    /// `since` (older ones are forgotten: the count restarts at 1).
    async fn record_sign_in_failure(&self, key: &str, at: DateTime<Utc>, since: DateTime<Utc>) -> Result<i64, RepoError>;
    /// Refuses sign-ins under a key until an instant.
    async fn lock_sign_in(&self, key: &str, until: DateTime<Utc>) -> Result<(), RepoError>;
    /// The latest instant any of the keys is locked until, if any is.
    async fn sign_in_locked_until(&self, keys: &[String]) -> Result<Option<DateTime<Utc>>, RepoError>;
    /// Forgets a key's failures (a successful sign-in).
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), RepoError>;
    /// Gives a user a calendar feed under a token's hash, replacing the one they had.
    async fn set_calendar_feed(&self, user: UserId, token_hash: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    /// The user whose feed a token's hash opens.
    async fn calendar_feed_user(&self, token_hash: &str) -> Result<Option<UserId>, RepoError>;
    /// Ends a user's feed; false when they had none.
    async fn drop_calendar_feed(&self, user: UserId) -> Result<bool, RepoError>;
}
