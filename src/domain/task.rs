//! Tasks: planned visits (the SOP's "Jadwal kunjungan").

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{BranchId, CustomerId, TaskId, UserId, VisitId};

/// Why a task exists (the SOP's "Jenis Tugas Kunjungan").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    Routine,
    LostRecovery,
    LostWarning,
    Onboarding,
    Revisit,
    FollowUp,
    Manual,
    /// The thank-you WhatsApp after a door visit (SOP ch. 3.1, "Dokumentasi"): done by the rep
    /// saying so (`POST /v1/tasks/{id}/done`), not by a visit record.
    ThankYou,
}

/// How the task may be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredMethod {
    DoorVisit,
    DoorVisitOrWhatsapp,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Missed,
    Cancelled,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
    };
}

str_enum!(TaskType {
    Routine = "routine",
    LostRecovery = "lost_recovery",
    LostWarning = "lost_warning",
    Onboarding = "onboarding",
    Revisit = "revisit",
    FollowUp = "follow_up",
    Manual = "manual",
    ThankYou = "thank_you",
});
str_enum!(RequiredMethod { DoorVisit = "door_visit", DoorVisitOrWhatsapp = "door_visit_or_whatsapp", Any = "any" });
str_enum!(TaskStatus { Open = "open", Done = "done", Missed = "missed", Cancelled = "cancelled" });
pub(crate) use str_enum;

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub customer_id: CustomerId,
    pub branch_id: BranchId,
    pub assignee_id: UserId,
    pub task_type: TaskType,
    pub required_method: RequiredMethod,
    pub due_date: NaiveDate,
    pub status: TaskStatus,
    /// The visit that caused this task (a re-visit's failed visit), if any.
    pub origin_visit_id: Option<VisitId>,
    /// The rule or person that created it: `manual`, `verdict_non_compliant`, `review_reject`, `review_overdue`,
    /// `next_follow_up`, `refusal_follow_up`, `demo`.
    pub origin: String,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    /// H-1: when the visit was confirmed with the customer, by whom, and what was agreed.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<UserId>,
    pub confirmation_note: Option<String>,
}

/// What every new task must say; [`NewTask::open`] makes the task, open and unconfirmed, and
/// the `with_…` methods add what only some tasks have.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub customer_id: CustomerId,
    /// The customer's branch.
    pub branch_id: BranchId,
    pub assignee_id: UserId,
    pub task_type: TaskType,
    pub required_method: RequiredMethod,
    pub due_date: NaiveDate,
    /// See [`Task::origin`].
    pub origin: &'static str,
}

impl NewTask {
    pub fn open(self, id: TaskId, created_at: DateTime<Utc>) -> Task {
        Task {
            id,
            customer_id: self.customer_id,
            branch_id: self.branch_id,
            assignee_id: self.assignee_id,
            task_type: self.task_type,
            required_method: self.required_method,
            due_date: self.due_date,
            status: TaskStatus::Open,
            origin_visit_id: None,
            origin: self.origin.to_string(),
            note: None,
            created_by: None,
            created_at,
            confirmed_at: None,
            confirmed_by: None,
            confirmation_note: None,
        }
    }
}

impl Task {
    pub fn with_note(mut self, note: Option<String>) -> Task {
        self.note = note;
        self
    }

    /// The visit that caused the task.
    pub fn from_visit(mut self, visit: VisitId) -> Task {
        self.origin_visit_id = Some(visit);
        self
    }

    pub fn created_by(mut self, user: Option<UserId>) -> Task {
        self.created_by = user;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_with_serde() {
        for t in [TaskType::Routine, TaskType::LostRecovery, TaskType::Revisit, TaskType::FollowUp] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            assert_eq!(TaskType::parse(t.as_str()), Some(t));
        }
        for m in [RequiredMethod::DoorVisit, RequiredMethod::DoorVisitOrWhatsapp, RequiredMethod::Any] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        for s in [TaskStatus::Open, TaskStatus::Done, TaskStatus::Missed, TaskStatus::Cancelled] {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
        }
    }
}
