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
