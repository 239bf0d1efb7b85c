//! Tasks: planned visits. Reps see their own; marketing roles create them for their branch.

use super::{App, AppError};
use crate::db::{Page, Paged, TaskFilter};
use crate::domain::ids::TaskId;
use crate::domain::role::{Actor, Role};
use crate::domain::task::Task;

pub async fn get(app: &App, actor: &Actor, id: TaskId) -> Result<Task, AppError> {
    match app.repo.get_task(id).await? {
        Some(t) if actor.can_see(t.assignee_id, t.branch_id) => Ok(t),
        _ => Err(AppError::not_found("task_not_found", format!("task {id} not found"))),
    }
}

pub async fn list(app: &App, actor: &Actor, mut filter: TaskFilter, page: Page) -> Result<Paged<Task>, AppError> {
    filter.scope = actor.scope();
    Ok(app.repo.list_tasks(&filter, page).await?)
}

/// Creates a task; with a client-chosen id the same request again returns the stored task.
pub async fn create(app: &App, actor: &Actor, mut task: Task) -> Result<(Task, bool), AppError> {
    if !actor.role.is_marketing() {
        return Err(AppError::forbidden("role_forbidden", "tasks are created by marketing roles"));
    }
    let customer = match app.repo.get_customer(task.customer_id).await? {
        Some(c) if actor.can_see_branch(c.branch_id) => c,
        _ => return Err(AppError::invalid("customer_not_found", format!("customer {} not found", task.customer_id))),
    };
    match app.repo.get_user(task.assignee_id).await? {
        Some(u) if u.role == Role::Sales && u.branch_id == Some(customer.branch_id) => {}
        _ => return Err(AppError::invalid("rep_not_found", "the assignee must be a sales rep of the customer's branch")),
    }
    task.branch_id = customer.branch_id;
    task.created_by = Some(actor.id);
    task.created_at = app.now();
    let created = app.repo.insert_task(&task).await?;
    let stored = app.repo.get_task(task.id).await?.ok_or_else(|| AppError::internal("task vanished"))?;
    let same = stored.customer_id == task.customer_id
        && stored.assignee_id == task.assignee_id
        && stored.task_type == task.task_type
        && stored.required_method == task.required_method
        && stored.due_date == task.due_date
        && stored.note == task.note;
    if !created && !same {
        return Err(AppError::conflict("task_id_conflict", "a different task exists under this id"));
    }
    if !created && !actor.can_see(stored.assignee_id, stored.branch_id) {
        return Err(AppError::conflict("task_id_conflict", "a different task exists under this id"));
    }
    Ok((stored, created))
}
