//! The directory's entities: branches (with their time zone and working week) and users.

use serde::Serialize;

use super::ids::{BranchId, UserId};
use super::role::Role;

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
