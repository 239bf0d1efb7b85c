//! CalendarRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::calendar::{CalendarRepo, DayCloseDone, DayCloseFound, DayClosePlan};
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::customer::CustomerClass;
use crate::domain::finding::Finding;
use crate::domain::holiday::{Holiday, HolidaySource};
use crate::domain::ids::{BranchId, VisitId};
use crate::domain::task::Task;
use crate::domain::visit::Visit;

#[async_trait]
impl CalendarRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(year = year))]
    async fn replace_holidays(&self, year: i32, holidays: &[Holiday], source: HolidaySource) -> Result<(), RepoError> {
        let (from, to) = (
            NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| RepoError::Corrupt(format!("year {year}")))?,
            NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| RepoError::Corrupt(format!("year {year}")))?,
        );
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM holidays WHERE date >= $1 AND date <= $2").bind(from).bind(to).execute(&mut *tx).await?;
        for h in holidays {
            sqlx::query("INSERT INTO holidays (date, name, kind) VALUES ($1, $2, $3)")
                .bind(h.date)
                .bind(&h.name)
                .bind(&h.kind)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO holiday_years (year, source) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE SET source = excluded.source")
            .bind(year)
            .bind(source.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(year = year))]
    async fn holiday_source(&self, year: i32) -> Result<Option<HolidaySource>, RepoError> {
        let source: Option<String> =
            sqlx::query_scalar("SELECT source FROM holiday_years WHERE year = $1").bind(year).fetch_optional(&self.pool).await?;
        source.map(|s| HolidaySource::parse(&s).ok_or_else(|| RepoError::Corrupt(format!("holiday source {s:?}")))).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(%from, %to))]
    async fn list_holidays(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Holiday>, RepoError> {
        let rows: Vec<(NaiveDate, String, String)> =
            sqlx::query_as("SELECT date, name, kind FROM holidays WHERE date >= $1 AND date <= $2 ORDER BY date")
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(date, name, kind)| Holiday { date, name, kind }).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch))]
    async fn last_closed_day(&self, branch: BranchId) -> Result<Option<NaiveDate>, RepoError> {
        Ok(sqlx::query_scalar("SELECT MAX(date) FROM day_closes WHERE branch_id = $1").bind(branch.0).fetch_one(&self.pool).await?)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch, %date))]
    async fn close_day(
        &self,
        branch: BranchId,
        date: NaiveDate,
        now: DateTime<Utc>,
        plan: &(dyn for<'a> Fn(DayCloseFound<'a>) -> DayClosePlan + Send + Sync),
    ) -> Result<Option<DayCloseDone>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let fresh = sqlx::query(
            "INSERT INTO day_closes (branch_id, date, closed_at, late_visits, missed_tasks) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(branch.0)
        .bind(date)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            return Ok(None);
        }
        let late: Vec<VisitRow> = sqlx::query_as(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE branch_id = $1 AND visit_date = $2 AND status = 'draft' ORDER BY seq"
        ))
        .bind(branch.0)
        .bind(date)
        .fetch_all(&mut *tx)
        .await?;
        let late: Vec<Visit> = late.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?;
        // Only the due tasks are read and written (index tasks_branch: branch, status, due date).
        let classes: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT t.id, c.class FROM tasks t JOIN customers c ON c.id = t.customer_id \
             WHERE t.branch_id = $1 AND t.status = 'open' AND t.due_date <= $2",
        )
        .bind(branch.0)
        .bind(date)
        .fetch_all(&mut *tx)
        .await?;
        let classes: HashMap<Uuid, String> = classes.into_iter().collect();
        let missed: Vec<TaskRow> = sqlx::query_as(&format!(
            "UPDATE tasks SET status = 'missed', updated_at = $3 WHERE branch_id = $1 AND status = 'open' AND due_date <= $2 RETURNING {TASK_COLUMNS}"
        ))
        .bind(branch.0)
        .bind(date)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut missed: Vec<(Task, CustomerClass)> = missed
            .into_iter()
            .map(|r| {
                let class = classes.get(&r.id).and_then(|c| CustomerClass::parse(c)).unwrap_or(CustomerClass::F);
                Task::try_from(r).map(|t| (t, class))
            })
            .collect::<Result<_, _>>()?;
        // Escalation order: Lost, then Lost Warning, then the rest; oldest due first.
        let rank = |c: CustomerClass| match c {
            CustomerClass::Lost => 0,
            CustomerClass::LostWarning => 1,
            _ => 2,
        };
        missed.sort_by_key(|a| (rank(a.1), a.0.due_date, a.0.id.0));
        let overdue: Vec<VisitRow> = sqlx::query_as(&format!(
            "UPDATE visits SET review_escalated_at = $3, updated_at = $3 WHERE branch_id = $1 AND review_due_date <= $2 \
             AND review_escalated_at IS NULL AND status = 'flagged' AND review_status = 'pending' RETURNING {VISIT_COLUMNS}"
        ))
        .bind(branch.0)
        .bind(date)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut overdue: Vec<Visit> = overdue.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?;
        overdue.sort_by_key(|v| (v.review_due_date, v.submitted_at));
        let planned = plan(DayCloseFound { late_visits: &late, missed_tasks: &missed, overdue_reviews: &overdue });
        let findings: Vec<(VisitId, &Finding)> = planned.findings.iter().map(|(v, f)| (*v, f)).collect();
        insert_findings_in(&mut tx, &findings).await?;
        for job in &planned.jobs {
            enqueue_job_in(&mut *tx, job, now).await?;
        }
        for (visit, task, created) in &planned.revisits {
            let (id, new) = place_revisit(&mut tx, task).await?;
            sqlx::query("UPDATE visits SET revisit_task_id = $2 WHERE id = $1").bind(visit.0).bind(id.0).execute(&mut *tx).await?;
            if new {
                enqueue_job_in(&mut *tx, created, now).await?;
            }
        }
        sqlx::query("UPDATE day_closes SET late_visits = $3, missed_tasks = $4 WHERE branch_id = $1 AND date = $2")
            .bind(branch.0)
            .bind(date)
            .bind(late.len() as i64)
            .bind(missed.len() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(DayCloseDone {
            late_visits: late.iter().map(|v| v.id).collect(),
            missed_tasks: missed.iter().map(|(t, _)| t.id).collect(),
            overdue_reviews: overdue.iter().map(|v| v.id).collect(),
        }))
    }
}
