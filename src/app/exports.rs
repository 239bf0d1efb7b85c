//! Exports: the visits (with their findings and reviews), the tasks and the scorecards of any
//! filter, as pages read one after another so that an export of any size holds one page in
//! memory; the HTTP layer writes each page out (CSV, GeoJSON, a ZIP of photos) as it comes.
//! Every export is audited once, with its filter.

use std::collections::HashMap;

use super::reviews::QueueEntry;
use super::{App, AppError};
use crate::db::{TaskFilter, VisitFilter};
use crate::domain::customer::Customer;
use crate::domain::ids::{CustomerId, UserId};
use crate::domain::page::Page;
use crate::domain::role::Actor;
use crate::domain::task::Task;
use crate::domain::visit::PhotoKind;

/// Rows read per page.
pub const EXPORT_PAGE: u32 = 500;

/// A visit with what an export writes beside it (the review queue's entry shape).
pub type ExportVisit = QueueEntry;

/// The visits of a filter, a page at a time, newest first.
pub struct VisitPages {
    app: App,
    actor: Actor,
    filter: VisitFilter,
    before: Option<i64>,
    done: bool,
}

impl VisitPages {
    /// Starts an export of the visits in the actor's scope that match the filter (audited).
    pub async fn start(app: &App, actor: &Actor, mut filter: VisitFilter, what: &str) -> Result<VisitPages, AppError> {
        super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
        filter.scope = actor.scope();
        app.repo
            .append_audit(&app.audit(
                actor,
                "export.started",
                "export",
                what.to_string(),
                serde_json::json!({ "filter": format!("{filter:?}") }),
            ))
            .await?;
        Ok(VisitPages { app: app.clone(), actor: actor.clone(), filter, before: None, done: false })
    }

    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<ExportVisit>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let paged = self.app.repo.list_visits(&self.filter, Page { before: self.before, limit: EXPORT_PAGE }).await?;
        self.before = paged.next;
        self.done = paged.next.is_none();
        if paged.items.is_empty() {
            return Ok(None);
        }
        Ok(Some(with_evidence(&self.app, &self.actor, paged.items).await?))
    }
}

/// Visits with their photos, findings, reviews, customers and reps: five queries a page.
async fn with_evidence(app: &App, _actor: &Actor, visits: Vec<crate::domain::visit::Visit>) -> Result<Vec<ExportVisit>, AppError> {
    let ids: Vec<_> = visits.iter().map(|v| v.id).collect();
    let mut customer_ids: Vec<CustomerId> = visits.iter().map(|v| v.content.customer_id).collect();
    customer_ids.sort_by_key(|c| c.0);
    customer_ids.dedup();
    let mut rep_ids: Vec<UserId> = visits.iter().map(|v| v.rep_id).collect();
    rep_ids.sort_by_key(|r| r.0);
    rep_ids.dedup();
    let evidence = app.repo.visits_evidence(&ids).await?;
    let customers: HashMap<_, _> = app.repo.customers_by_id(&customer_ids).await?.into_iter().map(|c| (c.id, c)).collect();
    let reps: HashMap<_, _> = app.repo.users_by_id(&rep_ids).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let mut photos: HashMap<_, Vec<_>> = HashMap::new();
    for p in evidence.photos {
        photos.entry(p.visit_id).or_default().push(p);
    }
    let mut findings: HashMap<_, Vec<_>> = HashMap::new();
    for (v, f) in evidence.findings {
        findings.entry(v).or_default().push(f);
    }
    let mut reviews: HashMap<_, Vec<_>> = HashMap::new();
    for r in evidence.reviews {
        reviews.entry(r.visit_id).or_default().push(r);
    }
    Ok(visits
        .into_iter()
        .map(|visit| {
            let customer: Option<Customer> = customers.get(&visit.content.customer_id).cloned();
            let detail = super::visits::VisitDetail {
                photos: photos.remove(&visit.id).unwrap_or_default(),
                findings: findings.remove(&visit.id).unwrap_or_default(),
                reviews: reviews.remove(&visit.id).unwrap_or_default(),
                visit,
            };
            let distance_m = customer.as_ref().and_then(|c| c.location).and_then(|home| {
                detail
                    .photos
                    .iter()
                    .filter(|p| p.kind != PhotoKind::WhatsappScreenshot)
                    .filter_map(|p| p.facts.exif_location.or(p.capture.location))
                    .map(|at| (home.distance_m(at) * 10.0).round() / 10.0)
                    .reduce(f64::max)
            });
            QueueEntry { rep_name: reps.get(&detail.visit.rep_id).cloned(), customer, detail, distance_m }
        })
        .collect())
}

/// A task with its customer and assignee, as an export writes it.
pub struct ExportTask {
    pub task: Task,
    pub customer: Option<Customer>,
    pub assignee_name: Option<String>,
}

/// The tasks of a filter, a page at a time.
pub struct TaskPages {
    app: App,
    filter: TaskFilter,
    before: Option<i64>,
    done: bool,
}

impl TaskPages {
    pub async fn start(app: &App, actor: &Actor, mut filter: TaskFilter) -> Result<TaskPages, AppError> {
        super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
        filter.scope = actor.scope();
        app.repo
            .append_audit(&app.audit(
                actor,
                "export.started",
                "export",
                "tasks".into(),
                serde_json::json!({ "filter": format!("{filter:?}") }),
            ))
            .await?;
        Ok(TaskPages { app: app.clone(), filter, before: None, done: false })
    }

    pub async fn next(&mut self) -> Result<Option<Vec<ExportTask>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let paged = self.app.repo.list_tasks(&self.filter, Page { before: self.before, limit: EXPORT_PAGE }).await?;
        self.before = paged.next;
        self.done = paged.next.is_none();
        if paged.items.is_empty() {
            return Ok(None);
        }
        let mut customer_ids: Vec<CustomerId> = paged.items.iter().map(|t| t.customer_id).collect();
        customer_ids.sort_by_key(|c| c.0);
        customer_ids.dedup();
        let mut user_ids: Vec<UserId> = paged.items.iter().map(|t| t.assignee_id).collect();
        user_ids.sort_by_key(|u| u.0);
        user_ids.dedup();
        let customers: HashMap<_, _> = self.app.repo.customers_by_id(&customer_ids).await?.into_iter().map(|c| (c.id, c)).collect();
        let users: HashMap<_, _> = self.app.repo.users_by_id(&user_ids).await?.into_iter().map(|u| (u.id, u.name)).collect();
        Ok(Some(
            paged
                .items
                .into_iter()
                .map(|task| ExportTask {
                    customer: customers.get(&task.customer_id).cloned(),
                    assignee_name: users.get(&task.assignee_id).cloned(),
                    task,
                })
                .collect(),
        ))
    }
}

/// A CSV cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's advice against formula injection).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(super::spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::spreadsheet_safe("Toko Maju"), "Toko Maju");
        assert_eq!(super::spreadsheet_safe(""), "");
    }
}
