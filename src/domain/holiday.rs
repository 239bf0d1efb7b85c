//! Holidays and collective leave days, and who set a year's list.

use chrono::NaiveDate;
use serde::Serialize;

/// A holiday or collective leave day: not a working day anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    /// `holiday` or `collective_leave` (cuti bersama).
    pub kind: String,
}

/// Who set a year's holidays: the release's shipped list, which a later release may correct,
/// or an operator, whose list an upgrade never touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidaySource {
    Shipped,
    Operator,
}

impl HolidaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shipped => "shipped",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shipped" => Some(Self::Shipped),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}
