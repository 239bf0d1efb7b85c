//! Exports: the visits (with their findings and reviews), the tasks and the scorecards of any
//! filter, as pages read one after another so that an export of any size holds one page in
//! memory; the HTTP layer writes each page out (CSV, GeoJSON, a ZIP of photos) as it comes.
//! Every export is audited once, with its filter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::reviews::QueueEntry;
use super::{App, AppError};
use crate::db::{TaskFilter, VisitFilter};
use crate::domain::customer::Customer;
use crate::domain::ids::{CustomerId, UserId};
use crate::domain::page::Page;
use crate::domain::role::Actor;
use crate::domain::task::Task;

/// Rows read per page.
pub const EXPORT_PAGE: u32 = 500;

/// A visit with what an export writes beside it (the review queue's entry shape).
pub type ExportVisit = QueueEntry;

/// The visits of a filter, a page at a time, newest first.
pub struct VisitPages {
    app: App,
    filter: VisitFilter,
    before: Option<i64>,
    done: bool,
    rows: Arc<AtomicU64>,
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
        Ok(VisitPages::resume(app, actor, filter))
    }

    /// The pages of an export requested (and audited) before: an export job's.
    pub fn resume(app: &App, actor: &Actor, mut filter: VisitFilter) -> VisitPages {
        filter.scope = actor.scope();
        VisitPages { app: app.clone(), filter, before: None, done: false, rows: Arc::default() }
    }

    /// Counts the rows handed out so far (readable after the pages are moved into a writer).
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.rows.clone()
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
        self.rows.fetch_add(paged.items.len() as u64, Ordering::Relaxed);
        Ok(Some(super::reviews::entries(&self.app, paged.items).await?))
    }
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
    rows: Arc<AtomicU64>,
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
        TaskPages::resume(app, actor, filter).await
    }

    /// The pages of an export requested (and audited) before: an export job's.
    pub async fn resume(app: &App, actor: &Actor, filter: TaskFilter) -> Result<TaskPages, AppError> {
        let filter = super::tasks::scoped(app, actor, filter).await?;
        Ok(TaskPages { app: app.clone(), filter, before: None, done: false, rows: Arc::default() })
    }

    pub fn counter(&self) -> Arc<AtomicU64> {
        self.rows.clone()
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
        self.rows.fetch_add(paged.items.len() as u64, Ordering::Relaxed);
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
