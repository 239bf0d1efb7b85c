//! Domain events for webhooks. An event is written as a `webhook_event` job in the same
//! transaction as the change it reports, so it exists exactly when the change does; a worker fans
//! it out to the subscriptions that want it (see [`super::webhooks`]). The API never waits for a
//! subscriber.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::db::NewJob;
use crate::domain::task::Task;
use crate::domain::visit::Visit;

/// The job kind that carries one event.
pub const EVENT_JOB: &str = "webhook_event";

/// Every event a subscription may ask for.
pub const EVENTS: [&str; 13] = [
    "visit.submitted",
    "visit.non_compliant",
    "visit.reviewed",
    "visit.upload_late",
    "visit.review_overdue",
    "task.created",
    "task.missed",
    "supervisor.daily_digest",
    "lead.sla_breached",
    "follow_up.missed",
    "after_service.complaint",
    "lead.duplicates_found",
    "quotation.revision_late",
];

/// One event as a job. `key` makes it unique: the same change never reports twice.
pub fn event(name: &str, key: &str, at: DateTime<Utc>, data: serde_json::Value) -> NewJob {
    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{name}:{key}").as_bytes());
    NewJob {
        id: Uuid::new_v4(),
        kind: EVENT_JOB.into(),
        unique_key: Some(format!("event:{name}:{key}")),
        payload: json!({ "id": id, "event": name, "occurred_at": at, "data": data }),
        run_at: at,
    }
}

/// What a subscriber learns about a visit.
pub fn visit_data(v: &Visit) -> serde_json::Value {
    json!({
        "visit_id": v.id, "rep_id": v.rep_id, "branch_id": v.branch_id, "customer_id": v.content.customer_id,
        "method": v.content.method.as_str(), "visit_date": v.visit_date, "status": v.status.as_str(),
        "score": v.score, "review_status": v.review_status.as_str(), "revisit_task_id": v.revisit_task_id,
    })
}

/// What a subscriber learns about a task.
pub fn task_data(t: &Task) -> serde_json::Value {
    json!({
        "task_id": t.id, "customer_id": t.customer_id, "branch_id": t.branch_id, "assignee_id": t.assignee_id,
        "task_type": t.task_type.as_str(), "required_method": t.required_method.as_str(), "due_date": t.due_date,
        "status": t.status.as_str(), "origin": t.origin, "origin_visit_id": t.origin_visit_id,
    })
}

/// What a subscriber learns about a missed follow-up.
pub fn follow_up_data(f: &crate::domain::cadence::FollowUp) -> serde_json::Value {
    json!({
        "follow_up_id": f.id, "lead_id": f.lead_id, "quotation_id": f.quotation_id, "customer_id": f.customer_id,
        "service_case_id": f.service_case_id, "branch_id": f.branch_id,
        "assignee_id": f.assignee_id, "cadence": f.cadence, "step": f.step_name, "due_date": f.due_date,
        "status": f.status.as_str(), "escalate_to": ["supervisor", "branch_marketing"],
    })
}

/// `quotation.revision_late`: a revision sent on a later branch day than the lead asked for it.
pub fn revision_late(q: &crate::domain::lead::Quotation, assignee: Option<crate::domain::ids::UserId>) -> NewJob {
    let data = json!({
        "quotation_id": q.id, "lead_id": q.lead_id, "branch_id": q.branch_id, "label": q.label(), "revision": q.revision,
        "revision_requested_at": q.revision_requested_at, "sent_on": q.sent_on, "assignee_id": assignee,
        "escalate_to": ["supervisor", "branch_marketing"],
    });
    event("quotation.revision_late", &q.id.to_string(), q.updated_at, data)
}

/// `task.created` for a task.
pub fn task_created(t: &Task) -> NewJob {
    event("task.created", &t.id.to_string(), t.created_at, task_data(t))
}
