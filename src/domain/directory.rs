//! The directory's entities: branches (with their time zone and working week) and users.

use serde::Serialize;

use super::ids::{BranchId, UserId};
use super::role::Role;

/// An API token as its owner and admins see it: never the secret, nor its hash. `id` is the
/// first 16 hex digits of the hash (enough to name it, nothing to sign in with).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub user_id: UserId,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TokenInfo {
    /// The length of a token's public id, in hex digits of its hash.
    pub const ID_LEN: usize = 16;

    /// Whether the token signs its user in at `now`: not revoked, not expired.
    pub fn usable_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|until| now < until)
    }

    /// Whether `last_used_at` is old enough to be written again (at most once a minute, so a
    /// busy phone's requests are not each a write).
    pub fn use_is_news(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.last_used_at.is_none_or(|at| now - at >= chrono::Duration::minutes(1))
    }
}

/// The days a new token lives unless asked otherwise, and the most it may be given.
pub const TOKEN_DEFAULT_DAYS: u32 = 90;
pub const TOKEN_MAX_DAYS: u32 = 365;

/// Monday to Friday, the default working week.
pub const MONDAY_TO_FRIDAY: [bool; 7] = [true, true, true, true, true, false, false];

#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub id: BranchId,
    pub code: String,
    pub name: String,
    pub time_zone: chrono_tz::Tz,
    /// Working weekdays, Monday = 0 (Monday–Friday by default).
    pub working_days: [bool; 7],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub branch_id: Option<BranchId>,
}

/// The console's language: Indonesian by default, English on the user's switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Id,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Id => "id",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "id" => Some(Locale::Id),
            "en" => Some(Locale::En),
            _ => None,
        }
    }
}

/// What signing in to the console checks a password against.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    pub user: User,
    pub login: String,
    /// The argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    /// A printed one-time password: the first sign-in must choose another.
    pub must_change: bool,
    pub locale: Locale,
}
