//! ScorecardRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::scorecards::{DigestRow, ScoreTasks, ScoreVisit, ScorecardRepo};
use crate::domain::customer::CustomerSlice;
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Scope;
use crate::domain::visit::VisitContent;

#[async_trait]
impl ScorecardRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch, %date))]
    async fn day_digest(&self, branch: BranchId, date: NaiveDate) -> Result<Vec<(UserId, DigestRow)>, RepoError> {
        let mut out: std::collections::BTreeMap<Uuid, DigestRow> = std::collections::BTreeMap::new();
        // Visits of the day (drafts only count when late: the day close marked them).
        let visits: Vec<(Uuid, String, bool, i64)> = sqlx::query_as(
            "SELECT v.rep_id, v.status, EXISTS (SELECT 1 FROM findings f WHERE f.visit_id = v.id AND f.code = 'upload_late'), COUNT(*) \
             FROM visits v WHERE v.branch_id = $1 AND v.visit_date = $2 GROUP BY v.rep_id, v.status, 3",
        )
        .bind(branch.0)
        .bind(date)
        .fetch_all(&self.pool)
        .await?;
        for (rep, status, late, n) in visits {
            let row = out.entry(rep).or_default();
            if status != "draft" {
                row.visits += n;
            }
            match status.as_str() {
                "compliant" => row.compliant += n,
                "flagged" => row.flagged += n,
                "non_compliant" => row.non_compliant += n,
                _ => {}
            }
            if late {
                row.late += n;
            }
        }
        let missed: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM tasks WHERE branch_id = $1 AND due_date = $2 AND status = 'missed' GROUP BY assignee_id",
        )
        .bind(branch.0)
        .bind(date)
        .fetch_all(&self.pool)
        .await?;
        for (rep, n) in missed {
            out.entry(rep).or_default().missed_tasks += n;
        }
        let revisits: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM tasks WHERE branch_id = $1 AND status = 'open' AND task_type = 'revisit' GROUP BY assignee_id",
        )
        .bind(branch.0)
        .fetch_all(&self.pool)
        .await?;
        for (rep, n) in revisits {
            out.entry(rep).or_default().open_revisits += n;
        }
        Ok(out.into_iter().map(|(rep, row)| (UserId(rep), row)).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(%from, %to))]
    async fn score_visits(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ScoreVisit>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT v.rep_id, v.branch_id, v.method, v.status, v.score, v.deducted_points, \
             EXISTS (SELECT 1 FROM findings f WHERE f.visit_id = v.id AND f.code = 'upload_late'), \
             c.class, t.task_type, v.content \
             FROM visits v JOIN customers c ON c.id = v.customer_id LEFT JOIN tasks t ON t.id = v.task_id \
             WHERE v.status <> 'draft' AND v.visit_date >= ",
        );
        qb.push_bind(from).push(" AND v.visit_date <= ").push_bind(to);
        push_scope(&mut qb, scope, "v.rep_id", "v.branch_id");
        push_customer_slice(&mut qb, customers, "v.customer_id");
        type Row = (Uuid, Uuid, String, String, Option<i64>, i64, bool, String, Option<String>, Json<VisitContent>);
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(rep, branch, method, status, score, deducted, late, class, task_type, content)| ScoreVisit {
                rep_id: UserId(rep),
                branch_id: BranchId(branch),
                method,
                status,
                score,
                deducted_points: deducted,
                late,
                customer_class: class,
                task_type,
                result_reason: content.0.result_reason,
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(%from, %to))]
    async fn score_tasks(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ScoreTasks>, RepoError> {
        let mut qb =
            QueryBuilder::<Db>::new("SELECT assignee_id, branch_id, required_method, status, COUNT(*) FROM tasks WHERE due_date >= ");
        qb.push_bind(from).push(" AND due_date <= ").push_bind(to);
        push_scope(&mut qb, scope, "assignee_id", "branch_id");
        push_customer_slice(&mut qb, customers, "customer_id");
        qb.push(" GROUP BY assignee_id, branch_id, required_method, status");
        let rows: Vec<(Uuid, Uuid, String, String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(a, b, m, s, n)| ScoreTasks { assignee_id: UserId(a), branch_id: BranchId(b), required_method: m, status: s, count: n })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(%from, %to))]
    async fn open_revisits(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(UserId, BranchId, i64)>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT t.assignee_id, t.branch_id, COUNT(*) FROM tasks t JOIN visits v ON v.id = t.origin_visit_id \
             WHERE t.task_type = 'revisit' AND t.status = 'open' AND v.visit_date >= ",
        );
        qb.push_bind(from).push(" AND v.visit_date <= ").push_bind(to);
        push_scope(&mut qb, scope, "t.assignee_id", "t.branch_id");
        push_customer_slice(&mut qb, customers, "t.customer_id");
        qb.push(" GROUP BY t.assignee_id, t.branch_id");
        let rows: Vec<(Uuid, Uuid, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(a, b, n)| (UserId(a), BranchId(b), n)).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(%from, %to))]
    async fn finding_counts(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64)>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT f.code, COUNT(*) FROM findings f JOIN visits v ON v.id = f.visit_id WHERE v.status <> 'draft' AND v.visit_date >= ",
        );
        qb.push_bind(from).push(" AND v.visit_date <= ").push_bind(to);
        push_scope(&mut qb, scope, "v.rep_id", "v.branch_id");
        if let Some(b) = branch {
            qb.push(" AND v.branch_id = ").push_bind(b.0);
        }
        push_customer_slice(&mut qb, customers, "v.customer_id");
        qb.push(" GROUP BY f.code ORDER BY COUNT(*) DESC, f.code");
        Ok(qb.build_query_as().fetch_all(&self.pool).await?)
    }
}
