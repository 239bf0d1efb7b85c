//! Tasks: planned visits. Reps see their own; marketing roles create them for their branch.

use super::{App, AppError};
pub use crate::db::TaskFilter;
use crate::domain::ids::{CustomerId, TaskId, UserId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};
use chrono::NaiveDate;

use crate::domain::task::{NewTask, RequiredMethod, Task, TaskStatus, TaskType};
use crate::domain::time::local_date;

pub async fn get(app: &App, actor: &Actor, id: TaskId) -> Result<Task, AppError> {
    super::access::visible_task(app, actor, id).await
}

pub async fn list(app: &App, actor: &Actor, filter: TaskFilter, page: Page) -> Result<Paged<Task>, AppError> {
    let filter = scoped(app, actor, filter).await?;
    Ok(app.repo.list_tasks(&filter, page).await?)
}

/// The filter narrowed to the actor's scope, with H-1's "tomorrow" of each branch filled in.
pub async fn scoped(app: &App, actor: &Actor, mut filter: TaskFilter) -> Result<TaskFilter, AppError> {
    filter.scope = actor.scope();
    if filter.by_volume() && filter.volume_month.is_none() {
        // The month of the actor's branch (WIB for HQ): the JMS's "periode ini".
        let tz = app.branch_of(actor).await?.map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone);
        let today = local_date(app.now(), tz);
        let month = today.format("%Y-%m").to_string();
        filter.volume_month = super::scorecards::month_span(&month);
    }
    if filter.needs_confirmation.is_some() {
        // "Tomorrow" is each branch's own: a WIT branch's day starts two hours before a WIB one's.
        let now = app.now();
        let branches = app.repo.list_branches().await?;
        filter.needs_confirmation = Some(
            branches
                .into_iter()
                .filter(|b| actor.can_see_branch(b.id))
                .filter_map(|b| local_date(now, b.time_zone).succ_opt().map(|tomorrow| (b.id, tomorrow)))
                .collect(),
        );
    }
    Ok(filter)
}

/// H-1: records that the visit was confirmed with the customer. The assignee or the branch's
/// marketing (or HQ) may confirm; only an open task; confirming again returns the first
/// confirmation unchanged.
pub async fn confirm(app: &App, actor: &Actor, id: TaskId, note: Option<String>) -> Result<Task, AppError> {
    let task = get(app, actor, id).await?;
    if task.confirmed_at.is_some() {
        return Ok(task);
    }
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict("task_not_open", format!("task {id} is {}; only an open task is confirmed", task.status.as_str())));
    }
    if app.repo.confirm_task(id, actor.id, note.as_deref(), app.now()).await? {
        let entry = app.audit(actor, "task.confirm", "task", id.to_string(), serde_json::json!({ "note": note }));
        app.repo.append_audit(&entry).await?;
    }
    // Confirmed now, or by a concurrent request a moment ago, or closed meanwhile: the stored truth.
    let stored = get(app, actor, id).await?;
    if stored.confirmed_at.is_none() {
        return Err(AppError::conflict(
            "task_not_open",
            format!("task {id} is {}; only an open task is confirmed", stored.status.as_str()),
        ));
    }
    Ok(stored)
}

/// Marks a thank-you task done (its rep, or marketing of its branch; audited). Other tasks are
/// done by the visit that follows them up (`409 task_needs_visit`); done already, it is returned
/// as it is.
pub async fn mark_done(app: &App, actor: &Actor, id: TaskId, note: Option<String>) -> Result<Task, AppError> {
    let task = get(app, actor, id).await?;
    if task.task_type != TaskType::ThankYou {
        return Err(AppError::conflict(
            "task_needs_visit",
            format!("a {} task is done by the visit that follows it up", task.task_type.as_str()),
        ));
    }
    if task.status == TaskStatus::Done {
        return Ok(task);
    }
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict("task_not_open", format!("task {id} is {}", task.status.as_str())));
    }
    if app.repo.complete_task(id, app.now()).await? {
        let entry = app.audit(actor, "task.done", "task", id.to_string(), serde_json::json!({ "note": note }));
        app.repo.append_audit(&entry).await?;
    }
    let stored = get(app, actor, id).await?;
    if stored.status != TaskStatus::Done {
        return Err(AppError::conflict("task_not_open", format!("task {id} is {}", stored.status.as_str())));
    }
    Ok(stored)
}

/// A task a marketing role asks for; its branch is its customer's.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    /// Chosen by the client, so a retry finds the task it created.
    pub id: Option<TaskId>,
    pub customer_id: CustomerId,
    pub assignee_id: UserId,
    pub task_type: TaskType,
    pub required_method: RequiredMethod,
    pub due_date: NaiveDate,
    pub note: Option<String>,
}

/// Creates a task; with a client-chosen id the same request again returns the stored task.
pub async fn create(app: &App, actor: &Actor, request: TaskRequest) -> Result<(Task, bool), AppError> {
    super::access::require(actor.role.is_marketing(), "tasks are created by marketing roles")?;
    let customer = match app.repo.get_customer(request.customer_id).await? {
        Some(c) if actor.can_see_branch(c.branch_id) => c,
        _ => return Err(AppError::invalid("customer_not_found", format!("customer {} not found", request.customer_id))),
    };
    match app.repo.get_user(request.assignee_id).await? {
        Some(u) if u.role == Role::Sales && u.branch_id == Some(customer.branch_id) => {}
        _ => return Err(AppError::invalid("rep_not_found", "the assignee must be a sales rep of the customer's branch")),
    }
    let task = NewTask {
        customer_id: customer.id,
        branch_id: customer.branch_id,
        assignee_id: request.assignee_id,
        task_type: request.task_type,
        required_method: request.required_method,
        due_date: request.due_date,
        origin: "manual",
    }
    .open(request.id.unwrap_or_else(TaskId::new_random), app.now())
    .with_note(request.note)
    .created_by(Some(actor.id));
    let created = app.repo.insert_task_with_job(&task, &super::events::task_created(&task)).await?;
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

/// Done / not done / missed over a filter (every page of it), in the actor's scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TaskCounts {
    pub open: i64,
    pub done: i64,
    pub missed: i64,
    pub cancelled: i64,
}

pub async fn counts(app: &App, actor: &Actor, filter: TaskFilter) -> Result<TaskCounts, AppError> {
    let filter = scoped(app, actor, filter).await?;
    let mut counts = TaskCounts::default();
    for (status, n) in app.repo.count_tasks(&filter).await? {
        match status {
            TaskStatus::Open => counts.open = n,
            TaskStatus::Done => counts.done = n,
            TaskStatus::Missed => counts.missed = n,
            TaskStatus::Cancelled => counts.cancelled = n,
        }
    }
    Ok(counts)
}

/// Gives an open task to another rep of its branch (marketing roles; audited). Giving it to the
/// rep who has it changes nothing.
pub async fn reassign(app: &App, actor: &Actor, id: TaskId, assignee: UserId) -> Result<Task, AppError> {
    super::access::require(actor.role.is_marketing(), "tasks are assigned by marketing roles")?;
    let task = super::access::visible_task(app, actor, id).await?;
    if task.assignee_id == assignee {
        return Ok(task);
    }
    match app.repo.get_user(assignee).await? {
        Some(u) if u.role == Role::Sales && u.branch_id == Some(task.branch_id) => {}
        _ => return Err(AppError::invalid("rep_not_found", "the assignee must be a sales rep of the task's branch")),
    }
    if !app.repo.reassign_task(id, assignee, app.now()).await? {
        return Err(AppError::conflict("task_not_open", "only an open task can be given to another rep"));
    }
    let entry =
        app.audit(actor, "task.reassigned", "task", id.to_string(), serde_json::json!({ "from": task.assignee_id, "to": assignee }));
    app.repo.append_audit(&entry).await?;
    app.repo.get_task(id).await?.ok_or_else(|| AppError::internal("task vanished"))
}

/// Deletes a task made by hand that no visit followed up yet (marketing roles; audited). A
/// planned task, a re-visit, or one a visit names stays: it is part of the record.
pub async fn delete_manual(app: &App, actor: &Actor, id: TaskId) -> Result<(), AppError> {
    super::access::require(actor.role.is_marketing(), "tasks are deleted by marketing roles")?;
    let task = super::access::visible_task(app, actor, id).await?;
    if task.origin != "manual" {
        return Err(AppError::conflict("task_not_manual", "only a task made by hand can be deleted"));
    }
    if task.status != TaskStatus::Open || app.repo.task_has_visit(id).await? {
        return Err(AppError::conflict("task_followed_up", "a task that was followed up stays on the record"));
    }
    if !app.repo.delete_manual_task(id).await? {
        return Err(AppError::conflict("task_followed_up", "a task that was followed up stays on the record"));
    }
    let entry = app.audit(
        actor,
        "task.deleted",
        "task",
        id.to_string(),
        serde_json::json!({ "customer_id": task.customer_id, "due_date": task.due_date }),
    );
    app.repo.append_audit(&entry).await?;
    Ok(())
}

/// A re-visit task for the same rep and customer, due per policy in working days.
pub(crate) fn revisit_task(
    app: &App,
    policy: &crate::domain::policy::Policy,
    visit: &crate::domain::visit::Visit,
    today: NaiveDate,
    cal: &crate::domain::time::Calendar,
    origin: &'static str,
    created_by: Option<UserId>,
) -> Task {
    let required_method = match visit.content.method {
        crate::domain::visit::Method::DoorVisit => RequiredMethod::DoorVisit,
        crate::domain::visit::Method::Whatsapp => RequiredMethod::DoorVisitOrWhatsapp,
        crate::domain::visit::Method::Phone => RequiredMethod::Any,
    };
    NewTask {
        customer_id: visit.content.customer_id,
        branch_id: visit.branch_id,
        assignee_id: visit.rep_id,
        task_type: TaskType::Revisit,
        required_method,
        due_date: cal.add_working_days(today, policy.revisit_due_working_days),
        origin,
    }
    .open(TaskId::new_random(), app.now())
    .from_visit(visit.id)
    .with_note(Some(format!("Re-visit: visit {} did not meet the standard", visit.id)))
    .created_by(created_by)
}
