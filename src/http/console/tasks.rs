//! `/hq/tasks`: the tasks in the user's scope (a rep's own, a branch's, everyone's for HQ) with
//! their status and due date, and the visits recorded in that scope, newest first.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::session::{html, Chrome, ConsoleError, Signed};
use super::views;
use crate::app::tasks::TaskFilter;
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::page::Page;
use crate::domain::role::Scope;
use crate::domain::task::TaskStatus;

#[derive(Debug, Default, Deserialize)]
pub struct TasksQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    due_from: String,
    #[serde(default)]
    due_to: String,
    /// One rep's tasks and visits (a scorecard's link).
    #[serde(default)]
    rep_id: String,
    #[serde(default)]
    visit_from: String,
    #[serde(default)]
    visit_to: String,
}

struct TaskRow {
    customer: String,
    kind: &'static str,
    method: &'static str,
    due: String,
    status: &'static str,
}

struct VisitRow {
    id: String,
    customer: String,
    date: String,
    status: &'static str,
    status_class: &'static str,
    review: &'static str,
    score: String,
}

#[derive(Template)]
#[template(path = "console/tasks.html")]
struct TasksPage {
    chrome: Chrome,
    status: String,
    due_from: String,
    due_to: String,
    tasks: Vec<TaskRow>,
    visits: Vec<VisitRow>,
}

/// `GET /hq/tasks`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed, q: web::Query<TasksQuery>) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let bad = |field: &str| ConsoleError::bad_query(t, field);
    let date = |field: &str, v: &str| -> Result<Option<NaiveDate>, ConsoleError> {
        match v.trim() {
            "" => Ok(None),
            s => s.parse().map(Some).map_err(|_| bad(field)),
        }
    };
    let status = match q.status.trim() {
        "" => None,
        s => Some(TaskStatus::parse(s).ok_or_else(|| bad("status"))?),
    };
    let actor = &signed.session.actor;
    let rep = match q.rep_id.trim() {
        "" => None,
        s => Some(crate::domain::ids::UserId(uuid::Uuid::parse_str(s).map_err(|_| bad("rep_id"))?)),
    };
    let filter = TaskFilter {
        scope: Scope::All,
        assignee_id: rep,
        status,
        due_from: date("due_from", &q.due_from)?,
        due_to: date("due_to", &q.due_to)?,
        customer_id: None,
        needs_confirmation: None,
    };
    let tasks = crate::app::tasks::list(&app, actor, filter, Page { before: None, limit: 100 }).await.map_err(fail)?.items;
    let visit_filter = VisitFilter {
        scope: Scope::All,
        status: None,
        review_status: None,
        rep_id: rep,
        branch_id: None,
        customer_id: None,
        date_from: date("visit_from", &q.visit_from)?,
        date_to: date("visit_to", &q.visit_to)?,
        finding_code: None,
    };
    let visits = crate::app::visits::list(&app, actor, visit_filter, Page { before: None, limit: 50 }).await.map_err(fail)?.items;
    let mut ids: Vec<_> = tasks.iter().map(|t| t.customer_id).chain(visits.iter().map(|v| v.content.customer_id)).collect();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    let names: HashMap<_, _> =
        app.repo.customers_by_id(&ids).await.map_err(|e| fail(e.into()))?.into_iter().map(|c| (c.id, c.name)).collect();
    let name = |id: crate::domain::ids::CustomerId| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let tasks = tasks
        .iter()
        .map(|task| TaskRow {
            customer: name(task.customer_id),
            kind: task.task_type.as_str(),
            method: task.required_method.as_str(),
            due: task.due_date.to_string(),
            status: task.status.as_str(),
        })
        .collect();
    let visits = visits
        .iter()
        .map(|v| VisitRow {
            id: v.id.to_string(),
            customer: name(v.content.customer_id),
            date: v.visit_date.map(|d| d.to_string()).unwrap_or_default(),
            status: views::visit_status(t, v.status),
            status_class: v.status.as_str(),
            review: views::review_status(t, v.review_status),
            score: v.score.map_or_else(|| "–".into(), |s| s.to_string()),
        })
        .collect();
    let q = q.into_inner();
    html(
        TasksPage { chrome: signed.chrome(&req, "tasks"), status: q.status, due_from: q.due_from, due_to: q.due_to, tasks, visits }
            .render(),
    )
}
