//! TaskRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::jobs::NewJob;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::db::tasks::{TaskFilter, TaskRepo};
use crate::domain::ids::{TaskId, UserId};
use crate::domain::page::{Page, Paged};
use crate::domain::task::{Task, TaskStatus};

#[async_trait]
impl TaskRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %t.id))]
    async fn insert_task(&self, t: &Task) -> Result<bool, RepoError> {
        insert_task_in(&self.pool, t).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %t.id))]
    async fn insert_task_with_job(&self, t: &Task, job: &NewJob) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = insert_task_in(&mut *tx, t).await?;
        if inserted {
            enqueue_job_in(&mut *tx, job, t.created_at).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, RepoError> {
        let row: Option<TaskRow> =
            sqlx::query_as(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_tasks(&self, f: &TaskFilter, page: Page) -> Result<Paged<Task>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1 = 1"));
        push_task_filter(&mut qb, f);
        push_page(&mut qb, page, "seq");
        let rows: Vec<TaskRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn confirm_task(&self, id: TaskId, by: UserId, note: Option<&str>, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let n = sqlx::query(
            "UPDATE tasks SET confirmed_at = $3, confirmed_by = $2, confirmation_note = $4, updated_at = $3 \
             WHERE id = $1 AND status = 'open' AND confirmed_at IS NULL",
        )
        .bind(id.0)
        .bind(by.0)
        .bind(at)
        .bind(note)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn count_tasks(&self, f: &TaskFilter) -> Result<Vec<(TaskStatus, i64)>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new("SELECT status, COUNT(*) FROM tasks WHERE 1 = 1");
        push_task_filter(&mut qb, f);
        qb.push(" GROUP BY status ORDER BY status");
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(s, n)| TaskStatus::parse(&s).map(|s| (s, n)).ok_or_else(|| RepoError::Corrupt(format!("unknown task status {s:?}"))))
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn reassign_task(&self, id: TaskId, assignee: UserId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let n = sqlx::query("UPDATE tasks SET assignee_id = $2, updated_at = $3 WHERE id = $1 AND status = 'open'")
            .bind(id.0)
            .bind(assignee.0)
            .bind(at)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn delete_manual_task(&self, id: TaskId) -> Result<bool, RepoError> {
        let n = sqlx::query(
            "DELETE FROM tasks WHERE id = $1 AND origin = 'manual' AND status = 'open' \
             AND NOT EXISTS (SELECT 1 FROM visits WHERE task_id = $1)",
        )
        .bind(id.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn complete_task(&self, id: TaskId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let n = sqlx::query("UPDATE tasks SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'open'")
            .bind(id.0)
            .bind(at)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(task_id = %id))]
    async fn task_has_visit(&self, id: TaskId) -> Result<bool, RepoError> {
        let (has,): (bool,) =
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM visits WHERE task_id = $1)").bind(id.0).fetch_one(&self.pool).await?;
        Ok(has)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = tasks.len()))]
    async fn insert_planned_tasks(&self, tasks: &[(Task, String)]) -> Result<u64, RepoError> {
        let mut created = 0;
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for chunk in tasks.chunks(500) {
            let mut qb = QueryBuilder::<Db>::new(format!("INSERT INTO tasks ({TASK_WRITE_COLUMNS}, plan_key) "));
            qb.push_values(chunk, |mut b, (t, key)| {
                push_task(&mut b, t);
                b.push_bind(key);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            created += qb.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(created)
    }
}

/// The filter's conditions, after `WHERE 1 = 1`.
fn push_task_filter(qb: &mut QueryBuilder<'_, Db>, f: &TaskFilter) {
    push_scope(qb, f.scope, "assignee_id", "branch_id");
    if let Some(a) = f.assignee_id {
        qb.push(" AND assignee_id = ").push_bind(a.0);
    }
    if let Some(b) = f.branch_id {
        qb.push(" AND branch_id = ").push_bind(b.0);
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(d) = f.due_from {
        qb.push(" AND due_date >= ").push_bind(d);
    }
    if let Some(d) = f.due_to {
        qb.push(" AND due_date <= ").push_bind(d);
    }
    if let Some(c) = f.customer_id {
        qb.push(" AND customer_id = ").push_bind(c.0);
    }
    if let Some(t) = f.task_type {
        qb.push(" AND task_type = ").push_bind(t.as_str());
    }
    if let Some(due) = &f.needs_confirmation {
        qb.push(" AND status = 'open' AND confirmed_at IS NULL AND (1 = 0");
        for (branch, date) in due {
            qb.push(" OR (branch_id = ").push_bind(branch.0).push(" AND due_date = ").push_bind(*date).push(")");
        }
        qb.push(")");
    }
    if let Some(r) = f.review_status {
        qb.push(" AND id IN (SELECT v.task_id FROM visits v WHERE v.task_id IS NOT NULL AND v.review_status = ")
            .push_bind(r.as_str())
            .push(")");
    }
    if let Some(class) = f.previous_class {
        qb.push(
            " AND customer_id IN (SELECT h.customer_id FROM customer_class_history h WHERE h.seq = \
             (SELECT MAX(l.seq) FROM customer_class_history l WHERE l.customer_id = h.customer_id) AND h.from_class = ",
        )
        .push_bind(class.as_str())
        .push(")");
    }
    if let Some(id) = f.task_id {
        qb.push(" AND id = ").push_bind(id.0);
    }
    push_customer_slice(qb, &f.customers(), "customer_id");
    if let (true, Some((first, last))) = (f.by_volume(), f.volume_month) {
        let previous_first = first.checked_sub_months(chrono::Months::new(1)).unwrap_or(first);
        let previous_last = first.pred_opt().unwrap_or(first);
        for ((from, to), min, max) in [
            ((previous_first, previous_last), f.previous_volume_min, f.previous_volume_max),
            ((first, last), f.current_volume_min, f.current_volume_max),
        ] {
            // A customer without a row that month shipped 0: a minimum above 0 excludes it, a
            // maximum keeps it; so the minimum selects who shipped enough, the maximum removes
            // who shipped too much.
            let sums = |qb: &mut QueryBuilder<'_, Db>| {
                qb.push("SELECT customer_id FROM shipment_volumes WHERE date >= ")
                    .push_bind(from)
                    .push(" AND date <= ")
                    .push_bind(to)
                    .push(" GROUP BY customer_id HAVING SUM(awb) ");
            };
            if let Some(min) = min.filter(|m| *m > 0) {
                qb.push(" AND customer_id IN (");
                sums(qb);
                qb.push(">= ").push_bind(min).push(")");
            }
            if let Some(max) = max {
                qb.push(" AND customer_id NOT IN (");
                sums(qb);
                qb.push("> ").push_bind(max).push(")");
            }
        }
    }
    let by_customer = f.customer_class.is_some()
        || f.customer_query.is_some()
        || f.customer_type.is_some()
        || f.customer_created_from.is_some()
        || f.customer_created_to.is_some();
    if by_customer {
        qb.push(" AND customer_id IN (SELECT c.id FROM customers c WHERE 1 = 1");
        if let Some(t) = &f.customer_type {
            qb.push(" AND c.customer_type = ").push_bind(t.clone());
        }
        if let Some(d) = f.customer_created_from {
            qb.push(" AND c.created_on >= ").push_bind(d);
        }
        if let Some(d) = f.customer_created_to {
            qb.push(" AND c.created_on <= ").push_bind(d);
        }
        if let Some(class) = f.customer_class {
            qb.push(" AND c.class = ").push_bind(class.as_str());
        }
        if let Some(q) = &f.customer_query {
            // LIKE with the pattern's own wildcards escaped: the query is text, not a pattern.
            let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            qb.push(" AND (LOWER(c.name) LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(c.code) LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        qb.push(")");
    }
}
