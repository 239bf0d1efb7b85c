//! Who may see or change what, in one place. A record the actor may not see is "not found",
//! never "forbidden": its existence is not revealed. A role that may not do a thing at all is
//! `role_forbidden`.

use super::{App, AppError};
use crate::domain::customer::Customer;
use crate::domain::finding::Finding;
use crate::domain::ids::{CustomerId, TaskId, VisitId};
use std::collections::{BTreeSet, HashSet};

use crate::domain::role::{Actor, Scope};
use crate::domain::task::Task;
use crate::domain::visit::Visit;

/// Findings as `actor` may see them. A rep sees that a photo or a summary matched earlier
/// evidence, not whose visit or photo it matched ([`Finding::as_seen_by_rep`]); a branch's
/// reviewer sees the matched visits of its branch by id and the others only as matches outside
/// its scope ([`Finding::without_visits`]: another branch's ids are not revealed); HQ sees all.
pub async fn findings_seen_by<'a>(app: &App, actor: &Actor, lists: impl IntoIterator<Item = &'a mut Vec<Finding>>) -> Result<(), AppError> {
    let mut lists: Vec<&mut Vec<Finding>> = lists.into_iter().collect();
    match actor.scope() {
        Scope::All => {}
        Scope::Own(_) => {
            for findings in lists {
                *findings = std::mem::take(findings).into_iter().map(Finding::as_seen_by_rep).collect();
            }
        }
        Scope::Branch(branch) => {
            let named: BTreeSet<String> = lists.iter().flat_map(|l| l.iter().flat_map(Finding::named_visits)).collect();
            let mut hidden = HashSet::new();
            for id in named {
                let visit = match uuid::Uuid::parse_str(&id) {
                    Ok(uuid) => app.repo.get_visit(VisitId(uuid)).await?,
                    Err(_) => None,
                };
                if visit.is_none_or(|v| v.branch_id != branch) {
                    hidden.insert(id);
                }
            }
            if !hidden.is_empty() {
                for findings in lists.iter_mut() {
                    **findings = std::mem::take(*findings).into_iter().map(|f| f.without_visits(&hidden)).collect();
                }
            }
        }
    }
    Ok(())
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
