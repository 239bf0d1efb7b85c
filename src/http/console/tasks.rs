//! `/hq/tasks` — JMS's Record Visit list, done better: filters (task type, customer class and
//! previous class, status, review status of the follow-up visit, due range, rep, customer name or code), the done / not done / missed counts over the
//! whole filter, a list or a month / week calendar, and for marketing roles: give a task to
//! another rep, add a manual task, delete a manual task no visit followed up. Below, the visits
//! recorded in the same scope (a rep's own, read-only).

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::session::{check_csrf, html, query_rest, Chrome, ConsoleError, Signed};
use super::views::{self, choices, Choice};
use crate::app::tasks::{TaskCounts, TaskFilter, TaskRequest};
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::customer::CustomerClass;
use crate::domain::ids::{BranchId, CustomerId, TaskId, UserId};
use crate::domain::page::Page;
use crate::domain::role::{Role, Scope};
use crate::domain::task::{RequiredMethod, TaskStatus, TaskType};
use crate::domain::time::local_date;
use crate::domain::visit::ReviewStatus;

/// The most tasks one page lists.
const LIST_LIMIT: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct TasksQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    due_from: String,
    #[serde(default)]
    due_to: String,
    #[serde(default)]
    task_type: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    previous_class: String,
    #[serde(default)]
    review_status: String,
    /// JMS's search by task id.
    #[serde(default)]
    task_id: String,
    #[serde(default)]
    customer_type: String,
    /// The customer's ownership (`hq`, `agent`) and distribution point.
    #[serde(default)]
    ownership: String,
    #[serde(default)]
    dp: String,
    /// The customer's AWB in the previous and the current month, at least / at most.
    #[serde(default)]
    previous_volume_min: String,
    #[serde(default)]
    previous_volume_max: String,
    #[serde(default)]
    current_volume_min: String,
    #[serde(default)]
    current_volume_max: String,
    /// The customer's creation date, from and to.
    #[serde(default)]
    customer_created_from: String,
    #[serde(default)]
    customer_created_to: String,
    #[serde(default)]
    customer: String,
    /// One rep's tasks and visits (a scorecard's link).
    #[serde(default)]
    rep_id: String,
    /// One branch's (HQ and admin, who see every branch).
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    visit_from: String,
    #[serde(default)]
    visit_to: String,
    /// `list` (default), `month` or `week`.
    #[serde(default)]
    view: String,
    /// The month (`YYYY-MM`) or the week's Monday (`YYYY-MM-DD`) of a calendar.
    #[serde(default)]
    at: String,
    /// What the last action did, shown once.
    #[serde(default)]
    done: String,
}

struct TaskRow {
    id: String,
    customer: String,
    customer_code: String,
    class: &'static str,
    kind: &'static str,
    method: &'static str,
    due: String,
    status: &'static str,
    assignee: String,
    assignee_id: String,
    open: bool,
    manual: bool,
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

struct Day {
    date: String,
    day: u32,
    in_month: bool,
    today: bool,
    tasks: Vec<(String, &'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "console/tasks.html")]
struct TasksPage {
    chrome: Chrome,
    q: TasksQuery,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    classes: Vec<Choice>,
    previous_classes: Vec<Choice>,
    review_statuses: Vec<Choice>,
    reps: Vec<Choice>,
    ownerships: Vec<Choice>,
    /// Every branch, for HQ and admin (empty for a branch's own people: no choice to make).
    branches: Vec<Choice>,
    counts: TaskCounts,
    tasks: Vec<TaskRow>,
    truncated: bool,
    visits: Vec<VisitRow>,
    /// Sales reps of the scope, for "assign" and "add".
    assignable: Vec<(String, String)>,
    calendar: Vec<Vec<Day>>,
    calendar_title: String,
    prev_url: String,
    next_url: String,
    list_url: String,
    /// The filter's tasks as CSV, for marketing roles.
    export_url: Option<String>,
    month_url: String,
    week_url: String,
    notice: Option<&'static str>,
    today: String,
    /// The id the "add" form creates its task under.
    new_task_id: String,
}

fn date(t: &'static super::i18n::Texts, field: &str, v: &str) -> Result<Option<NaiveDate>, ConsoleError> {
    ConsoleError::field(t, field, v, |s| s.parse().ok())
}

/// The page's query without `view`/`at`/`done`, to build the view switches on.
fn filter_query(q: &TasksQuery) -> String {
    query_rest(&[
        ("status", &q.status),
        ("due_from", &q.due_from),
        ("due_to", &q.due_to),
        ("task_type", &q.task_type),
        ("class", &q.class),
        ("previous_class", &q.previous_class),
        ("review_status", &q.review_status),
        ("customer", &q.customer),
        ("rep_id", &q.rep_id),
        ("branch_id", &q.branch_id),
        ("task_id", &q.task_id),
        ("customer_type", &q.customer_type),
        ("ownership", &q.ownership),
        ("dp", &q.dp),
        ("previous_volume_min", &q.previous_volume_min),
        ("previous_volume_max", &q.previous_volume_max),
        ("current_volume_min", &q.current_volume_min),
        ("current_volume_max", &q.current_volume_max),
        ("customer_created_from", &q.customer_created_from),
        ("customer_created_to", &q.customer_created_to),
    ])
}

/// `GET /hq/tasks`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed, q: web::Query<TasksQuery>) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let q = q.into_inner();
    let bad = |field: &str| ConsoleError::bad_query(t, field);
    let actor = &signed.session.actor;
    let status = match q.status.trim() {
        "" => None,
        s => Some(TaskStatus::parse(s).ok_or_else(|| bad("status"))?),
    };
    let task_type = match q.task_type.trim() {
        "" => None,
        s => Some(TaskType::parse(s).ok_or_else(|| bad("task_type"))?),
    };
    let class = match q.class.trim() {
        "" => None,
        s => Some(CustomerClass::parse(s).ok_or_else(|| bad("class"))?),
    };
    let previous_class = ConsoleError::field(t, "previous_class", &q.previous_class, CustomerClass::parse)?;
    let task_id = ConsoleError::field(t, "task_id", &q.task_id, |s| Uuid::parse_str(s).ok().map(TaskId))?;
    let review_status = ConsoleError::field(t, "review_status", &q.review_status, ReviewStatus::parse)?;
    let branch = ConsoleError::field(t, "branch_id", &q.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?;
    let rep = match q.rep_id.trim() {
        "" => None,
        s => Some(UserId(Uuid::parse_str(s).map_err(|_| bad("rep_id"))?)),
    };
    let branch_tz = app.branch_of(actor).await.map_err(fail)?.map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone);
    let today = local_date(app.now(), branch_tz);
    let view = match q.view.as_str() {
        "" | "list" => "list",
        "month" => "month",
        "week" => "week",
        _ => return Err(bad("view")),
    };
    // A calendar shows its month or week whatever the due range says.
    let (mut due_from, mut due_to) = (date(t, "due_from", &q.due_from)?, date(t, "due_to", &q.due_to)?);
    let mut calendar_span = None;
    if view != "list" {
        let start = match (view, q.at.trim()) {
            ("month", "") => today.with_day(1).unwrap_or(today),
            ("month", m) => crate::app::scorecards::month_span(m).ok_or_else(|| bad("at"))?.0,
            (_, "") => today - Days::new(u64::from(today.weekday().num_days_from_monday())),
            (_, d) => {
                let d: NaiveDate = d.parse().map_err(|_| bad("at"))?;
                d - Days::new(u64::from(d.weekday().num_days_from_monday()))
            }
        };
        let end = if view == "month" {
            crate::app::scorecards::month_span(&start.format("%Y-%m").to_string()).map_or(start, |s| s.1)
        } else {
            start + Days::new(6)
        };
        calendar_span = Some((start, end));
        (due_from, due_to) = (Some(start), Some(end));
    }
    let customer_query = Some(q.customer.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 100);
    let filter = TaskFilter {
        scope: Scope::All,
        assignee_id: rep,
        branch_id: branch,
        status,
        due_from,
        due_to,
        customer_id: None,
        needs_confirmation: None,
        task_type,
        customer_class: class,
        customer_query,
        previous_class,
        review_status,
        task_id,
        customer_type: Some(q.customer_type.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 64),
        ownership: views::customer_slice(&q.ownership, &q.dp).0,
        dp: views::customer_slice(&q.ownership, &q.dp).1,
        previous_volume_min: views::volume(t, "previous_volume_min", &q.previous_volume_min)?,
        previous_volume_max: views::volume(t, "previous_volume_max", &q.previous_volume_max)?,
        current_volume_min: views::volume(t, "current_volume_min", &q.current_volume_min)?,
        current_volume_max: views::volume(t, "current_volume_max", &q.current_volume_max)?,
        volume_month: None,
        customer_created_from: date(t, "customer_created_from", &q.customer_created_from)?,
        customer_created_to: date(t, "customer_created_to", &q.customer_created_to)?,
    };
    let counts = crate::app::tasks::counts(&app, actor, filter.clone()).await.map_err(fail)?;
    let limit = if view == "list" { LIST_LIMIT } else { 1000 };
    let tasks = crate::app::tasks::list(&app, actor, filter, Page { before: None, limit }).await.map_err(fail)?;
    let truncated = tasks.next.is_some();
    let tasks = tasks.items;
    let visit_filter = VisitFilter {
        rep_id: rep,
        branch_id: branch,
        date_from: date(t, "visit_from", &q.visit_from)?,
        date_to: date(t, "visit_to", &q.visit_to)?,
        ..VisitFilter::any()
    };
    let visits = crate::app::visits::list(&app, actor, visit_filter, Page { before: None, limit: 50 }).await.map_err(fail)?.items;
    let mut ids: Vec<CustomerId> = tasks.iter().map(|t| t.customer_id).chain(visits.iter().map(|v| v.content.customer_id)).collect();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    let customers: HashMap<_, _> =
        app.repo.customers_by_id(&ids).await.map_err(|e| fail(e.into()))?.into_iter().map(|c| (c.id, c)).collect();
    let people: Vec<_> = match actor.scope() {
        Scope::All if branch.is_some() => app.repo.list_users(branch).await,
        Scope::All => app.repo.list_users(None).await,
        Scope::Branch(b) => app.repo.list_users(Some(b)).await,
        Scope::Own(_) => Ok(Vec::new()),
    }
    .map_err(|e| fail(e.into()))?;
    let names: HashMap<_, _> = people.iter().map(|u| (u.id, u.name.clone())).collect();
    let reps: Vec<_> = people.iter().filter(|u| u.role == Role::Sales).collect();
    let name = |id: CustomerId| customers.get(&id).map_or_else(|| id.to_string(), |c| c.name.clone());
    let rows: Vec<TaskRow> = tasks
        .iter()
        .map(|task| TaskRow {
            id: task.id.to_string(),
            customer: name(task.customer_id),
            customer_code: customers.get(&task.customer_id).map(|c| c.code.clone()).unwrap_or_default(),
            class: customers.get(&task.customer_id).map_or("", |c| c.class.as_str()),
            kind: task.task_type.as_str(),
            method: task.required_method.as_str(),
            due: task.due_date.to_string(),
            status: task.status.as_str(),
            assignee: names.get(&task.assignee_id).cloned().unwrap_or_else(|| actor.name.clone()),
            assignee_id: task.assignee_id.to_string(),
            open: task.status == TaskStatus::Open,
            manual: task.origin == "manual",
        })
        .collect();
    let mut calendar = Vec::new();
    let mut calendar_title = String::new();
    let (mut prev_url, mut next_url) = (String::new(), String::new());
    let fq = filter_query(&q);
    if let Some((start, end)) = calendar_span {
        let mut by_day: BTreeMap<NaiveDate, Vec<(String, &'static str, &'static str)>> = BTreeMap::new();
        for (task, row) in tasks.iter().zip(&rows) {
            by_day.entry(task.due_date).or_default().push((row.customer.clone(), row.kind, row.status));
        }
        let grid_start = start - Days::new(u64::from(start.weekday().num_days_from_monday()));
        let mut day = grid_start;
        while day <= end || day.weekday().num_days_from_monday() != 0 {
            let mut week = Vec::with_capacity(7);
            for _ in 0..7 {
                week.push(Day {
                    date: day.to_string(),
                    day: day.day(),
                    in_month: day >= start && day <= end,
                    today: day == today,
                    tasks: by_day.remove(&day).unwrap_or_default(),
                });
                day = day + Days::new(1);
            }
            calendar.push(week);
            if day > end {
                break;
            }
        }
        if view == "month" {
            calendar_title = start.format("%Y-%m").to_string();
            let prev = start.pred_opt().unwrap_or(start).format("%Y-%m");
            let next = end.succ_opt().unwrap_or(end).format("%Y-%m");
            prev_url = format!("/hq/tasks?view=month&at={prev}{fq}");
            next_url = format!("/hq/tasks?view=month&at={next}{fq}");
        } else {
            calendar_title = format!("{start} – {end}");
            prev_url = format!("/hq/tasks?view=week&at={}{fq}", start - Days::new(7));
            next_url = format!("/hq/tasks?view=week&at={}{fq}", start + Days::new(7));
        }
    }
    let visit_rows = visits
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
    let any = || (String::new(), t.any.to_string());
    let statuses =
        choices(&q.status, std::iter::once(any()).chain(["open", "done", "missed", "cancelled"].map(|s| (s.to_string(), s.to_string()))));
    let types = choices(
        &q.task_type,
        std::iter::once(any()).chain(
            ["routine", "lost_recovery", "lost_warning", "onboarding", "revisit", "follow_up", "manual", "thank_you"]
                .map(|s| (s.to_string(), s.to_string())),
        ),
    );
    let class_choices = |current: &str| {
        choices(
            current,
            std::iter::once(any())
                .chain(["A", "B", "C", "D", "E", "F", "lost", "lost_warning", "new"].map(|s| (s.to_string(), s.to_string()))),
        )
    };
    let classes = class_choices(&q.class);
    let previous_classes = class_choices(&q.previous_class);
    let review_statuses = choices(
        &q.review_status,
        std::iter::once(any()).chain(
            [ReviewStatus::Pending, ReviewStatus::Approved, ReviewStatus::Rejected, ReviewStatus::Flagged]
                .map(|s| (s.as_str().to_string(), views::review_status(t, s).to_string())),
        ),
    );
    let branches = match actor.scope() {
        Scope::All => app.repo.list_branches().await.map_err(|e| fail(e.into()))?,
        _ => Vec::new(),
    };
    let branch_choices = choices(
        &q.branch_id,
        std::iter::once((String::new(), t.all_branches.to_string()))
            .chain(branches.iter().map(|b| (b.id.to_string(), format!("{} — {}", b.code, b.name)))),
    );
    let rep_choices = choices(&q.rep_id, std::iter::once(any()).chain(reps.iter().map(|u| (u.id.to_string(), u.name.clone()))));
    let assignable = reps.iter().map(|u| (u.id.to_string(), u.name.clone())).collect();
    let notice = match q.done.as_str() {
        "deleted" => Some(t.deleted),
        "assigned" => Some(t.assigned),
        "added" => Some(t.task_added),
        _ => None,
    };
    let page = TasksPage {
        chrome: signed.chrome(&req, "tasks"),
        statuses,
        types,
        classes,
        previous_classes,
        review_statuses,
        reps: rep_choices,
        ownerships: views::ownership_choices(t, &q.ownership),
        branches: branch_choices,
        counts,
        tasks: rows,
        truncated,
        visits: visit_rows,
        assignable,
        calendar,
        calendar_title,
        prev_url,
        next_url,
        export_url: (signed.is_marketing()).then(|| {
            // The page's `status` is the task's; the export's form uses it for the visit's.
            let rest = fq.replace("&status=", "&task_status=");
            format!("/hq/exports/tasks.csv?{}", rest.trim_start_matches('&'))
        }),
        list_url: format!("/hq/tasks?view=list{fq}"),
        month_url: format!("/hq/tasks?view=month{fq}"),
        week_url: format!("/hq/tasks?view=week{fq}"),
        notice,
        today: today.to_string(),
        new_task_id: Uuid::new_v4().to_string(),
        q: TasksQuery { view: view.to_string(), ..q },
    };
    html(page.render())
}

fn back_to(done: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/hq/tasks?done={done}"))).finish()
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    assignee_id: String,
}

/// `POST /hq/tasks/{task_id}/assign`.
pub async fn assign(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<Uuid>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let locale = signed.session.locale;
    let assignee = Uuid::parse_str(form.assignee_id.trim())
        .map_err(|_| ConsoleError::from_app(AppError::invalid("rep_not_found", "choose a rep"), locale))?;
    crate::app::tasks::reassign(&app, &signed.session.actor, TaskId(path.into_inner()), UserId(assignee))
        .await
        .map_err(|e| ConsoleError::from_app(e, locale))?;
    Ok(back_to("assigned"))
}

/// `POST /hq/tasks/{task_id}/delete`.
pub async fn delete(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<Uuid>,
    form: web::Form<super::login::CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    crate::app::tasks::delete_manual(&app, &signed.session.actor, TaskId(path.into_inner()))
        .await
        .map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    Ok(back_to("deleted"))
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    /// Made when the form was drawn: a double submit adds one task.
    #[serde(default)]
    id: String,
    customer: String,
    assignee_id: String,
    due_date: String,
    #[serde(default)]
    required_method: String,
    #[serde(default)]
    note: String,
}

/// `POST /hq/tasks`: a manual task for a customer (by code) and a rep of its branch.
pub async fn add(req: HttpRequest, app: web::Data<App>, signed: Signed, form: web::Form<AddForm>) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let invalid = |code: &'static str, detail: &str| fail(AppError::invalid(code, detail.to_string()));
    let code = form.customer.trim().to_string();
    let customer = match Uuid::parse_str(&code) {
        Ok(id) => CustomerId(id),
        Err(_) => *app
            .repo
            .customer_ids_by_code(std::slice::from_ref(&code))
            .await
            .map_err(|e| fail(e.into()))?
            .get(&code)
            .ok_or_else(|| invalid("customer_not_found", "no customer has this code"))?,
    };
    let assignee = Uuid::parse_str(form.assignee_id.trim()).map_err(|_| invalid("rep_not_found", "choose a rep"))?;
    let due_date: NaiveDate = form.due_date.trim().parse().map_err(|_| invalid("invalid_field", "the due date is not a date"))?;
    let required_method = match form.required_method.trim() {
        "" => RequiredMethod::Any,
        m => RequiredMethod::parse(m).ok_or_else(|| invalid("invalid_field", "unknown required method"))?,
    };
    let note = form.note.trim();
    if note.chars().count() > 2000 {
        return Err(invalid("invalid_field", "the note is at most 2000 characters"));
    }
    let id = match form.id.trim() {
        "" => None,
        s => Some(TaskId(Uuid::parse_str(s).map_err(|_| invalid("invalid_field", "the task id is not a UUID"))?)),
    };
    let request = TaskRequest {
        id,
        customer_id: customer,
        assignee_id: UserId(assignee),
        task_type: TaskType::Manual,
        required_method,
        due_date,
        note: (!note.is_empty()).then(|| note.to_string()),
    };
    crate::app::tasks::create(&app, &signed.session.actor, request).await.map_err(fail)?;
    Ok(back_to("added"))
}
