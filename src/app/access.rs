//! Who may see or change what, in one place. A record the actor may not see is "not found",
//! never "forbidden": its existence is not revealed. A role that may not do a thing at all is
//! `role_forbidden`.

use super::{App, AppError};
use crate::domain::customer::Customer;
use crate::domain::finding::Finding;
use crate::domain::ids::{CustomerId, TaskId, VisitId};
use crate::domain::role::{Actor, Role};
use crate::domain::task::Task;
use crate::domain::visit::Visit;

/// Findings as `actor` may see them: a rep sees that a photo or a summary matched earlier
/// evidence, not whose visit or photo it matched ([`Finding::as_seen_by_rep`]).
pub fn findings_seen_by(actor: &Actor, findings: &mut Vec<Finding>) {
    if actor.role == Role::Sales {
        *findings = std::mem::take(findings).into_iter().map(Finding::as_seen_by_rep).collect();
    }
}

/// `role_forbidden` unless `allowed` (e.g. `actor.role.is_marketing()`).
pub fn require(allowed: bool, detail: &str) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden("role_forbidden", detail))
    }
}

/// A visit the actor may see (their own, their branch's, or any for HQ), or 404.
pub async fn visible_visit(app: &App, actor: &Actor, id: VisitId) -> Result<Visit, AppError> {
    match app.repo.get_visit(id).await? {
        Some(v) if actor.can_see(v.rep_id, v.branch_id) => Ok(v),
        _ => Err(AppError::not_found("visit_not_found", format!("visit {id} not found"))),
    }
}

/// A visit the actor recorded: only its rep may change it.
pub async fn owned_visit(app: &App, actor: &Actor, id: VisitId) -> Result<Visit, AppError> {
    let visit = visible_visit(app, actor, id).await?;
    if visit.rep_id != actor.id {
        return Err(AppError::forbidden("not_visit_owner", "only the rep who recorded the visit may change it"));
    }
    Ok(visit)
}

/// A task the actor may see (assigned to them, in their branch, or any for HQ), or 404.
pub async fn visible_task(app: &App, actor: &Actor, id: TaskId) -> Result<Task, AppError> {
    match app.repo.get_task(id).await? {
        Some(t) if actor.can_see(t.assignee_id, t.branch_id) => Ok(t),
        _ => Err(AppError::not_found("task_not_found", format!("task {id} not found"))),
    }
}

/// A customer of a branch the actor may see, or 404.
pub async fn visible_customer(app: &App, actor: &Actor, id: CustomerId) -> Result<Customer, AppError> {
    match app.repo.get_customer(id).await? {
        Some(c) if actor.can_see_branch(c.branch_id) => Ok(c),
        _ => Err(AppError::not_found("customer_not_found", format!("customer {id} not found"))),
    }
}
