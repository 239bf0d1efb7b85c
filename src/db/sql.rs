//! The statements, written once for both backends. `impl_repo!` expands them for one sqlx
//! database type; the dialect differences are three fragments: `$begin_write`, how a write
//! transaction starts (SQLite takes the write lock up front with `BEGIN IMMEDIATE`, so a
//! read-then-write transaction never fails to upgrade), and `$key_set`, the predicate "`key` is
//! in this JSON array parameter" (`json_each` on SQLite; on PostgreSQL an array, so the 330
//! probes of a near-duplicate lookup are one index scan instead of a nested loop), and
//! `$skip_locked`, how a job claim passes over rows another worker holds (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; nothing on SQLite, whose `BEGIN IMMEDIATE` admits one writer).

pub(crate) const CUSTOMER_COLUMNS: &str = "seq, id, code, name, customer_type, branch_id, assigned_rep_id, latitude, longitude, \
     geofence_radius_m, contact_name, contact_position, contact_phone, created_on, class, previous_level, created_at, updated_at";
/// The customer columns every write binds ([`push_customer`] in the repo macro).
pub(crate) const CUSTOMER_WRITE_COLUMNS: &str = "id, code, name, customer_type, branch_id, assigned_rep_id, latitude, longitude, \
     geofence_radius_m, contact_name, contact_position, contact_phone, created_on, class, created_at, updated_at";
pub(crate) const TASK_COLUMNS: &str = "seq, id, customer_id, branch_id, assignee_id, task_type, required_method, due_date, status, \
     origin_visit_id, origin, note, created_by, created_at, confirmed_at, confirmed_by, confirmation_note";
pub(crate) const VISIT_COLUMNS: &str = "seq, id, rep_id, branch_id, content, content_hash, visit_date, status, review_status, score, \
     deducted_points, submitted_at, revisit_task_id, created_at, updated_at";
pub(crate) const PHOTO_COLUMNS: &str = "id, visit_id, kind, sha256, size_bytes, content_type, storage_key, capture, facts, findings, received_at";

/// The review queue's cursor packs (priority rank, seq) into one number: rank above this bit.
pub(crate) const QUEUE_RANK_SHIFT: i64 = 48;

/// Non-compliant first, then flagged, then the rest.
pub(crate) fn queue_rank(status: &str) -> i64 {
    match status {
        "non_compliant" => 0,
        "flagged" => 1,
        _ => 2,
    }
}

/// Splits `limit + 1` fetched rows into a page and the next cursor.
pub(crate) fn paginate<R, T>(mut rows: Vec<R>, limit: u32, seq: impl Fn(&R) -> i64, convert: impl Fn(R) -> Result<T, super::RepoError>) -> Result<super::Paged<T>, super::RepoError> {
    let limit = limit as usize;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(&seq)
    } else {
        None
    };
    let items = rows.into_iter().map(convert).collect::<Result<Vec<_>, _>>()?;
    Ok(super::Paged { items, next })
}

macro_rules! impl_repo {
    ($repo:ident, $db:ty, $backend:expr, $begin_write:expr, $key_set:expr, $skip_locked:expr) => {
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::types::Json;
        use sqlx::QueryBuilder;
        use uuid::Uuid;

        use crate::db::rows::*;
        use crate::db::sql::{paginate, queue_rank, QUEUE_RANK_SHIFT, CUSTOMER_COLUMNS, CUSTOMER_WRITE_COLUMNS, PHOTO_COLUMNS, TASK_COLUMNS, VISIT_COLUMNS};
        use crate::db::*;
        use crate::domain::customer::{Customer, CustomerClass};
        use crate::domain::finding::Finding;
        use crate::domain::ids::{BranchId, CustomerId, PhotoId, ReviewId, TaskId, UserId, VisitId};
        use crate::domain::role::Scope;
        use crate::domain::task::Task;
        use crate::domain::visit::{Photo, Review, Visit, VisitContent};
        use crate::domain::webhook::{Delivery, DeliveryStatus, Webhook};

        type WebhookRow = (Uuid, String, String, Json<Vec<String>>, bool, Option<Uuid>, DateTime<Utc>);
        const WEBHOOK_COLUMNS: &str = "id, url, secret, events, active, created_by, created_at";

        fn webhook_from(r: WebhookRow) -> Webhook {
            Webhook { id: r.0, url: r.1, secret: r.2, events: r.3 .0, active: r.4, created_by: r.5.map(UserId), created_at: r.6 }
        }

        type DeliveryRow = (i64, Uuid, Uuid, Uuid, String, Json<serde_json::Value>, String, i64, Option<i64>, Option<String>, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
        const DELIVERY_COLUMNS: &str =
            "seq, id, webhook_id, event_id, event, payload, status, attempts, last_status, last_error, created_at, updated_at, delivered_at";

        fn delivery_from(r: DeliveryRow) -> Result<Delivery, RepoError> {
            Ok(Delivery {
                id: r.1,
                webhook_id: r.2,
                event_id: r.3,
                event: r.4,
                payload: r.5 .0,
                status: DeliveryStatus::parse(&r.6).ok_or_else(|| RepoError::Corrupt(format!("delivery status {:?}", r.6)))?,
                attempts: r.7,
                last_status: r.8,
                last_error: r.9,
                created_at: r.10,
                updated_at: r.11,
                delivered_at: r.12,
            })
        }

        fn uuid_opt<T: Into<Uuid>>(v: Option<T>) -> Option<Uuid> {
            v.map(Into::into)
        }

        async fn insert_task_in<'c, E>(exec: E, t: &Task) -> Result<bool, RepoError>
        where
            E: sqlx::Executor<'c, Database = $db>,
        {
            let done = sqlx::query(
                "INSERT INTO tasks (id, customer_id, branch_id, assignee_id, task_type, required_method, due_date, status, \
                 origin_visit_id, origin, note, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT DO NOTHING",
            )
            .bind(t.id.0)
            .bind(t.customer_id.0)
            .bind(t.branch_id.0)
            .bind(t.assignee_id.0)
            .bind(t.task_type.as_str())
            .bind(t.required_method.as_str())
            .bind(t.due_date)
            .bind(t.status.as_str())
            .bind(uuid_opt(t.origin_visit_id))
            .bind(&t.origin)
            .bind(&t.note)
            .bind(uuid_opt(t.created_by))
            .bind(t.created_at)
            .execute(exec)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        /// Binds a customer's values in [`CUSTOMER_WRITE_COLUMNS`] order (the single write and
        /// the import's multi-row upsert).
        fn push_customer<'args>(b: &mut sqlx::query_builder::Separated<'_, 'args, $db, &'static str>, c: &'args Customer) {
            b.push_bind(c.id.0)
                .push_bind(&c.code)
                .push_bind(&c.name)
                .push_bind(&c.customer_type)
                .push_bind(c.branch_id.0)
                .push_bind(uuid_opt(c.assigned_rep_id))
                .push_bind(c.location.map(|p| p.latitude))
                .push_bind(c.location.map(|p| p.longitude))
                .push_bind(c.geofence_radius_m)
                .push_bind(&c.contact_name)
                .push_bind(&c.contact_position)
                .push_bind(&c.contact_phone)
                .push_bind(c.created_on)
                .push_bind(c.class.as_str())
                .push_bind(c.created_at)
                .push_bind(c.updated_at);
        }

        /// Appends `$1, $2, …` binding each id (for `IN (…)`).
        fn push_uuids(qb: &mut QueryBuilder<'_, $db>, ids: impl IntoIterator<Item = Uuid>) {
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
        }

        /// Writes findings in the caller's transaction (the verdict's, the day close's): one
        /// multi-row statement per 1000, not one round trip each.
        async fn insert_findings_in(tx: &mut sqlx::Transaction<'_, $db>, findings: &[(VisitId, &Finding)]) -> Result<(), RepoError> {
            for chunk in findings.chunks(1000) {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO findings (visit_id, photo_id, code, severity, penalty, evidence, message_id, message_en) ");
                qb.push_values(chunk, |mut b, (visit, f)| {
                    b.push_bind(visit.0)
                        .push_bind(uuid_opt(f.photo_id))
                        .push_bind(f.code.as_str())
                        .push_bind(severity_str(f.severity))
                        .push_bind(i64::from(f.penalty))
                        .push_bind(Json(&f.evidence))
                        .push_bind(&f.message_id)
                        .push_bind(&f.message_en);
                });
                qb.build().execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Enqueues a job in the caller's transaction, so the job exists exactly when the write
        /// that caused it does (webhook events are written this way).
        async fn enqueue_job_in<'c, E>(exec: E, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError>
        where
            E: sqlx::Executor<'c, Database = $db>,
        {
            let inserted = sqlx::query(
                "INSERT INTO jobs (id, kind, unique_key, payload, status, attempts, run_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) ON CONFLICT DO NOTHING",
            )
            .bind(job.id)
            .bind(&job.kind)
            .bind(&job.unique_key)
            .bind(Json(&job.payload))
            .bind(job.run_at)
            .bind(now)
            .execute(exec)
            .await?
            .rows_affected();
            Ok(inserted == 1)
        }

        async fn append_audit_in<'c, E>(exec: E, e: &AuditEntry) -> Result<(), RepoError>
        where
            E: sqlx::Executor<'c, Database = $db>,
        {
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, detail) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(e.at)
                .bind(uuid_opt(e.actor_id))
                .bind(&e.action)
                .bind(&e.subject_type)
                .bind(&e.subject_id)
                .bind(Json(&e.detail))
                .execute(exec)
                .await?;
            Ok(())
        }

        /// Writes one review and what it causes in the caller's transaction; false (having
        /// written nothing of it) when its id exists.
        async fn record_review_in(tx: &mut sqlx::Transaction<'_, $db>, r: &ReviewRecord) -> Result<bool, RepoError> {
            let review = &r.review;
            let (revisit_id, revisit_created) = match &r.revisit_task {
                Some(task) => {
                    let (id, created) = place_revisit(tx, task).await?;
                    (Some(id), created)
                }
                None => (None, false),
            };
            let inserted = sqlx::query(
                "INSERT INTO reviews (id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(review.id.0)
            .bind(review.visit_id.0)
            .bind(review.reviewer_id.0)
            .bind(review.decision.as_str())
            .bind(&review.comment)
            .bind(i64::from(review.deduct_points))
            .bind(uuid_opt(revisit_id))
            .bind(review.created_at)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1;
            if !inserted {
                // The id is taken: write nothing (the re-visit task placed above rolls back).
                return Ok(false);
        }
        sqlx::query(
            "UPDATE visits SET review_status = $2, deducted_points = deducted_points + $3, \
             revisit_task_id = COALESCE($4, revisit_task_id), updated_at = $5 WHERE id = $1",
        )
        .bind(review.visit_id.0)
        .bind(review.decision.review_status().as_str())
        .bind(i64::from(review.deduct_points))
        .bind(uuid_opt(revisit_id))
        .bind(review.created_at)
        .execute(&mut **tx)
        .await?;
        for job in r.jobs.iter().chain(r.revisit_created_job.iter().filter(|_| revisit_created)) {
            enqueue_job_in(&mut **tx, job, review.created_at).await?;
        }
        append_audit_in(&mut **tx, &r.audit).await?;
        Ok(true)
        }

        fn push_visit_filter(qb: &mut QueryBuilder<'_, $db>, f: &VisitFilter) {
            push_scope(qb, f.scope, "v.rep_id", "v.branch_id");
            if let Some(s) = f.status {
                qb.push(" AND v.status = ").push_bind(s.as_str());
            }
            if let Some(s) = f.review_status {
                qb.push(" AND v.review_status = ").push_bind(s.as_str());
            }
            if let Some(r) = f.rep_id {
                qb.push(" AND v.rep_id = ").push_bind(r.0);
            }
            if let Some(b) = f.branch_id {
                qb.push(" AND v.branch_id = ").push_bind(b.0);
            }
            if let Some(c) = f.customer_id {
                qb.push(" AND v.customer_id = ").push_bind(c.0);
            }
            if let Some(d) = f.date_from {
                qb.push(" AND v.visit_date >= ").push_bind(d);
            }
            if let Some(d) = f.date_to {
                qb.push(" AND v.visit_date <= ").push_bind(d);
            }
            if let Some(code) = f.finding_code {
                qb.push(" AND EXISTS (SELECT 1 FROM findings f WHERE f.visit_id = v.id AND f.code = ").push_bind(code.as_str()).push(")");
            }
        }

        /// Sets a customer's class and keeps the change, in the caller's transaction.
        async fn change_class_in(tx: &mut sqlx::Transaction<'_, $db>, customer: CustomerId, ch: &ClassChange) -> Result<(), RepoError> {
            sqlx::query("UPDATE customers SET class = $2, previous_level = $3, updated_at = $4 WHERE id = $1")
                .bind(customer.0)
                .bind(ch.to_class.as_str())
                .bind(ch.previous_level.map(CustomerClass::as_str))
                .bind(ch.at)
                .execute(&mut **tx)
                .await?;
            if ch.from_class != ch.to_class {
                sqlx::query(
                    "INSERT INTO customer_class_history (customer_id, at, from_class, to_class, previous_level, reason) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(customer.0)
                .bind(ch.at)
                .bind(ch.from_class.as_str())
                .bind(ch.to_class.as_str())
                .bind(ch.previous_level.map(CustomerClass::as_str))
                .bind(Json(&ch.reason))
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// A re-visit task is unique per open origin visit: when one exists, use it.
        /// Places a re-visit task, or finds the one already open for the visit; says which.
        async fn place_revisit(tx: &mut sqlx::Transaction<'_, $db>, task: &Task) -> Result<(TaskId, bool), RepoError> {
            let inserted = insert_task_in(&mut **tx, task).await?;
            let id: Uuid = sqlx::query_scalar(
                "SELECT id FROM tasks WHERE origin_visit_id = $1 AND task_type = 'revisit' AND status = 'open'",
            )
            .bind(uuid_opt(task.origin_visit_id))
            .fetch_one(&mut **tx)
            .await?;
            Ok((TaskId(id), inserted && id == task.id.0))
        }

        fn push_scope(qb: &mut QueryBuilder<'_, $db>, scope: Scope, owner_col: &str, branch_col: &str) {
            match scope {
                Scope::Own(user) => {
                    qb.push(format!(" AND {owner_col} = ")).push_bind(user.0);
                }
                Scope::Branch(branch) => {
                    qb.push(format!(" AND {branch_col} = ")).push_bind(branch.0);
                }
                Scope::All => {}
            }
        }

        fn push_page(qb: &mut QueryBuilder<'_, $db>, page: Page, seq_col: &str) {
            if let Some(before) = page.before {
                qb.push(format!(" AND {seq_col} < ")).push_bind(before);
            }
            qb.push(format!(" ORDER BY {seq_col} DESC LIMIT ")).push_bind(i64::from(page.limit) + 1);
        }

        #[async_trait]
        impl Repo for $repo {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> Result<(), RepoError> {
                self.run_migrations().await
            }

            async fn ping(&self) -> Result<(), RepoError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn job_stats(&self, now: DateTime<Utc>) -> Result<Vec<JobStat>, RepoError> {
                let rows: Vec<(String, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT status, COUNT(*), MIN(CASE WHEN status <> 'queued' OR run_at <= $1 THEN run_at END) \
                     FROM jobs WHERE status IN ('queued', 'running', 'dead') GROUP BY status",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(status, count, oldest_run_at)| JobStat { status, count, oldest_run_at }).collect())
            }

            async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError> {
                enqueue_job_in(&self.pool, job, now).await
            }

            async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> Result<Option<ClaimedJob>, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let claimed: Option<(Uuid, String, Json<serde_json::Value>, i64)> = sqlx::query_as(&format!(
                    "UPDATE jobs SET status = 'running', locked_by = $1, heartbeat_at = $2, attempts = attempts + 1, updated_at = $2 \
                     WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' AND run_at <= $2 ORDER BY run_at, seq LIMIT 1{}) \
                     RETURNING id, kind, payload, attempts",
                    $skip_locked
                ))
                .bind(worker)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(claimed.map(|(id, kind, payload, attempts)| ClaimedJob { id, kind, payload: payload.0, attempts }))
            }

            async fn heartbeat_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
                let n = sqlx::query("UPDATE jobs SET heartbeat_at = $3, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
                    .bind(id)
                    .bind(worker)
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n == 1)
            }

            async fn complete_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<(), RepoError> {
                sqlx::query("UPDATE jobs SET status = 'done', heartbeat_at = NULL, last_error = NULL, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
                    .bind(id)
                    .bind(worker)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn fail_job(&self, id: Uuid, worker: &str, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), RepoError> {
                let query = match retry_at {
                    Some(at) => sqlx::query("UPDATE jobs SET status = 'queued', run_at = $5, locked_by = NULL, heartbeat_at = NULL, last_error = $3, updated_at = $4 WHERE id = $1 AND locked_by = $2 AND status = 'running'").bind(id).bind(worker).bind(error).bind(now).bind(at),
                    None => sqlx::query("UPDATE jobs SET status = 'dead', locked_by = NULL, heartbeat_at = NULL, last_error = $3, updated_at = $4 WHERE id = $1 AND locked_by = $2 AND status = 'running'").bind(id).bind(worker).bind(error).bind(now),
                };
                query.execute(&self.pool).await?;
                Ok(())
            }

            async fn release_jobs(&self, worker: Option<&str>, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, RepoError> {
                let query = match worker {
                    Some(w) => sqlx::query("UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, heartbeat_at = NULL, updated_at = $2 WHERE status = 'running' AND locked_by = $1").bind(w).bind(now),
                    None => sqlx::query("UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, heartbeat_at = NULL, updated_at = $2 WHERE status = 'running' AND heartbeat_at < $1").bind(stale_before).bind(now),
                };
                Ok(query.execute(&self.pool).await?.rows_affected())
            }

            async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>, RepoError> {
                let row: Option<(Uuid, String, Option<String>, String, i64, DateTime<Utc>, Option<String>, Option<String>)> =
                    sqlx::query_as("SELECT id, kind, unique_key, status, attempts, run_at, locked_by, last_error FROM jobs WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, kind, unique_key, status, attempts, run_at, locked_by, last_error)| JobRecord { id, kind, unique_key, status, attempts, run_at, locked_by, last_error }))
            }

            async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
                Ok(sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1").bind(before).execute(&self.pool).await?.rows_affected())
            }

            async fn record_object_intent(&self, key: &str, now: DateTime<Utc>) -> Result<(), RepoError> {
                sqlx::query("INSERT INTO object_intents (storage_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(key)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn stale_object_intents(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<(String, bool)>, RepoError> {
                let rows: Vec<(String, bool)> = sqlx::query_as(
                    "SELECT i.storage_key, EXISTS (SELECT 1 FROM photos p WHERE p.storage_key = i.storage_key) \
                     FROM object_intents i WHERE i.created_at < $1 ORDER BY i.created_at LIMIT $2",
                )
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn drop_object_intent(&self, key: &str) -> Result<(), RepoError> {
                sqlx::query("DELETE FROM object_intents WHERE storage_key = $1").bind(key).execute(&self.pool).await?;
                Ok(())
            }

            async fn upsert_branch(&self, b: &Branch) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO branches (id, code, name, time_zone, created_at, working_days) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, time_zone = excluded.time_zone, \
                     working_days = excluded.working_days",
                )
                .bind(b.id.0)
                .bind(&b.code)
                .bind(&b.name)
                .bind(b.time_zone.name())
                .bind(Utc::now())
                .bind(crate::domain::time::Calendar::weekdays_text(b.working_days))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_branch(&self, id: BranchId) -> Result<Option<Branch>, RepoError> {
                let row: Option<BranchRow> = sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_branches(&self) -> Result<Vec<Branch>, RepoError> {
                let rows: Vec<BranchRow> = sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches ORDER BY code").fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

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

            async fn branch_by_code(&self, code: &str) -> Result<Option<Branch>, RepoError> {
                let row: Option<BranchRow> = sqlx::query_as("SELECT id, code, name, time_zone, working_days FROM branches WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn upsert_user(&self, u: &User, at: DateTime<Utc>) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO users (id, name, role, branch_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, branch_id = excluded.branch_id",
                )
                .bind(u.id.0)
                .bind(&u.name)
                .bind(u.role.as_str())
                .bind(uuid_opt(u.branch_id))
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_user(&self, id: UserId) -> Result<Option<User>, RepoError> {
                let row: Option<UserRow> = sqlx::query_as("SELECT id, name, role, branch_id FROM users WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn add_token(&self, user: UserId, token_hash: &str, label: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(token_hash)
                .bind(user.0)
                .bind(label)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, RepoError> {
                let row: Option<UserRow> = sqlx::query_as(
                    "SELECT u.id, u.name, u.role, u.branch_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn insert_customer(&self, c: &Customer) -> Result<(), RepoError> {
                self.write_customer(c, "").await
            }

            async fn upsert_customer_by_code(&self, c: &Customer) -> Result<(), RepoError> {
                self.write_customer(
                    c,
                    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, customer_type = excluded.customer_type, \
                      branch_id = excluded.branch_id, assigned_rep_id = excluded.assigned_rep_id, latitude = excluded.latitude, \
                      longitude = excluded.longitude, geofence_radius_m = excluded.geofence_radius_m, \
                      contact_name = excluded.contact_name, contact_position = excluded.contact_position, \
                      contact_phone = excluded.contact_phone, created_on = excluded.created_on, class = excluded.class, previous_level = excluded.previous_level, \
                      updated_at = excluded.updated_at",
                )
                .await
            }

            async fn update_customer(&self, c: &Customer) -> Result<(), RepoError> {
                sqlx::query(
                    "UPDATE customers SET code = $2, name = $3, customer_type = $4, assigned_rep_id = $5, latitude = $6, \
                     longitude = $7, geofence_radius_m = $8, contact_name = $9, contact_position = $10, contact_phone = $11, \
                     created_on = $12, class = $13, updated_at = $14, previous_level = $15 WHERE id = $1",
                )
                .bind(c.id.0)
                .bind(&c.code)
                .bind(&c.name)
                .bind(&c.customer_type)
                .bind(uuid_opt(c.assigned_rep_id))
                .bind(c.location.map(|p| p.latitude))
                .bind(c.location.map(|p| p.longitude))
                .bind(c.geofence_radius_m)
                .bind(&c.contact_name)
                .bind(&c.contact_position)
                .bind(&c.contact_phone)
                .bind(c.created_on)
                .bind(c.class.as_str())
                .bind(c.updated_at)
                .bind(c.previous_level.map(CustomerClass::as_str))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>, RepoError> {
                let row: Option<CustomerRow> = sqlx::query_as(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_customers(&self, f: &CustomerFilter, page: Page) -> Result<Paged<Customer>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE 1 = 1"));
                if let Some(b) = f.branch_id {
                    qb.push(" AND branch_id = ").push_bind(b.0);
                }
                if let Some(r) = f.assigned_rep_id {
                    qb.push(" AND assigned_rep_id = ").push_bind(r.0);
                }
                if let Some(c) = f.class {
                    qb.push(" AND class = ").push_bind(c.as_str());
                }
                if let Some(q) = &f.q {
                    let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                    qb.push(" AND (LOWER(code) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    qb.push(" OR LOWER(name) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
                }
                push_page(&mut qb, page, "seq");
                let rows: Vec<CustomerRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
            }

            async fn insert_task(&self, t: &Task) -> Result<bool, RepoError> {
                insert_task_in(&self.pool, t).await
            }

            async fn insert_task_with_job(&self, t: &Task, job: &NewJob) -> Result<bool, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let inserted = insert_task_in(&mut *tx, t).await?;
                if inserted {
                    enqueue_job_in(&mut *tx, job, t.created_at).await?;
                }
                tx.commit().await?;
                Ok(inserted)
            }

            async fn get_task(&self, id: TaskId) -> Result<Option<Task>, RepoError> {
                let row: Option<TaskRow> = sqlx::query_as(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_tasks(&self, f: &TaskFilter, page: Page) -> Result<Paged<Task>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1 = 1"));
                push_scope(&mut qb, f.scope, "assignee_id", "branch_id");
                if let Some(a) = f.assignee_id {
                    qb.push(" AND assignee_id = ").push_bind(a.0);
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
                if let Some(due) = &f.needs_confirmation {
                    qb.push(" AND status = 'open' AND confirmed_at IS NULL AND (1 = 0");
                    for (branch, date) in due {
                        qb.push(" OR (branch_id = ").push_bind(branch.0).push(" AND due_date = ").push_bind(*date).push(")");
                    }
                    qb.push(")");
                }
                push_page(&mut qb, page, "seq");
                let rows: Vec<TaskRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
            }

            async fn insert_visit(&self, v: &Visit) -> Result<bool, RepoError> {
                let done = sqlx::query(
                    "INSERT INTO visits (id, rep_id, branch_id, customer_id, task_id, method, content, content_hash, visited_at, \
                     visit_date, status, review_status, score, deducted_points, submitted_at, revisit_task_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT DO NOTHING",
                )
                .bind(v.id.0)
                .bind(v.rep_id.0)
                .bind(v.branch_id.0)
                .bind(v.content.customer_id.0)
                .bind(uuid_opt(v.content.task_id))
                .bind(v.content.method.as_str())
                .bind(Json(&v.content))
                .bind(&v.content_hash)
                .bind(v.content.visited_at)
                .bind(v.visit_date)
                .bind(v.status.as_str())
                .bind(v.review_status.as_str())
                .bind(v.score.map(i64::from))
                .bind(i64::from(v.deducted_points))
                .bind(v.submitted_at)
                .bind(uuid_opt(v.revisit_task_id))
                .bind(v.created_at)
                .bind(v.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn update_draft_visit(&self, v: &Visit) -> Result<bool, RepoError> {
                let done = sqlx::query(
                    "UPDATE visits SET customer_id = $2, task_id = $3, method = $4, content = $5, content_hash = $6, \
                     visited_at = $7, visit_date = $8, branch_id = $9, updated_at = $10 WHERE id = $1 AND status = 'draft'",
                )
                .bind(v.id.0)
                .bind(v.content.customer_id.0)
                .bind(uuid_opt(v.content.task_id))
                .bind(v.content.method.as_str())
                .bind(Json(&v.content))
                .bind(&v.content_hash)
                .bind(v.content.visited_at)
                .bind(v.visit_date)
                .bind(v.branch_id.0)
                .bind(v.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn get_visit(&self, id: VisitId) -> Result<Option<Visit>, RepoError> {
                let row: Option<VisitRow> = sqlx::query_as(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_visits(&self, f: &VisitFilter, page: Page) -> Result<Paged<Visit>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {VISIT_COLUMNS} FROM visits v WHERE 1 = 1"));
                push_visit_filter(&mut qb, f);
                push_page(&mut qb, page, "v.seq");
                let rows: Vec<VisitRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
            }

            async fn insert_photo(&self, p: &Photo, at: DateTime<Utc>) -> Result<PhotoInsert, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                // Locks the visit row (PostgreSQL) so a concurrent submit waits for this photo
                // or this photo sees the submit; SQLite's IMMEDIATE lock serialises the same way.
                let draft = sqlx::query("UPDATE visits SET updated_at = $2 WHERE id = $1 AND status = 'draft'")
                    .bind(p.visit_id.0)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                let existing: Option<PhotoRow> = sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1"))
                    .bind(p.id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = existing {
                    return Ok(PhotoInsert::Exists(Box::new(row.try_into()?)));
                }
                if !draft {
                    return Ok(PhotoInsert::VisitNotDraft);
                }
                let inserted = sqlx::query(
                    "INSERT INTO photos (id, visit_id, kind, sha256, size_bytes, content_type, storage_key, capture, facts, \
                     findings, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                )
                .bind(p.id.0)
                .bind(p.visit_id.0)
                .bind(p.kind.as_str())
                .bind(&p.sha256)
                .bind(i64::try_from(p.size_bytes).unwrap_or(i64::MAX))
                .bind(&p.content_type)
                .bind(&p.storage_key)
                .bind(Json(&p.capture))
                .bind(Json(&p.facts))
                .bind(Json(&p.findings))
                .bind(p.received_at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !inserted {
                    // Lost a race for the same id: report what won.
                    drop(tx);
                    return match self.get_photo(p.id).await? {
                        Some(existing) => Ok(PhotoInsert::Exists(Box::new(existing))),
                        None => Err(RepoError::Conflict("photo id".into())),
                    };
                }
                // The object is referenced now: no longer the orphan sweep's business.
                sqlx::query("DELETE FROM object_intents WHERE storage_key = $1").bind(&p.storage_key).execute(&mut *tx).await?;
                if let Some((dhash, ahash)) = p.facts.perceptual_hashes() {
                    sqlx::query("INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash) VALUES ($1, $2, $3, $4, $5)")
                        .bind(p.id.0)
                        .bind(p.visit_id.0)
                        .bind(p.received_at)
                        .bind(dhash.to_vec())
                        .bind(ahash as i64)
                        .execute(&mut *tx)
                        .await?;
                    let mut keys = QueryBuilder::<$db>::new("INSERT INTO photo_hash_keys (key, photo_id) ");
                    keys.push_values(hash_keys(&dhash, ahash), |mut row, key| {
                        row.push_bind(key).push_bind(p.id.0);
                    });
                    keys.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(PhotoInsert::Inserted)
            }

            async fn get_photo(&self, id: PhotoId) -> Result<Option<Photo>, RepoError> {
                let row: Option<PhotoRow> = sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_photos(&self, visit: VisitId) -> Result<Vec<Photo>, RepoError> {
                let rows: Vec<PhotoRow> =
                    sqlx::query_as(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE visit_id = $1 ORDER BY seq"))
                        .bind(visit.0)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn hash_candidates(&self, dhash: &[u8; 32], ahash: u64, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<HashCandidate>, RepoError> {
                // The probe keys travel as one JSON array parameter; `$key_set` unpacks it in SQL.
                let keys = serde_json::to_string(&probe_keys(dhash, ahash)).unwrap_or_default();
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT photo_id, visit_id, dhash, ahash FROM photo_hashes WHERE photo_id IN (SELECT photo_id FROM photo_hash_keys WHERE ",
                );
                qb.push($key_set.0).push_bind(keys).push($key_set.1);
                qb.push(") AND received_at < ").push_bind(before);
                qb.push(" AND visit_id <> ").push_bind(other_than.0);
                qb.push(" LIMIT 2000");
                let rows: Vec<(Uuid, Uuid, Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(p, v, d, a)| {
                        Some(HashCandidate { photo_id: PhotoId(p), visit_id: VisitId(v), dhash: <[u8; 32]>::try_from(d).ok()?, ahash: a as u64 })
                    })
                    .collect())
            }

            async fn similar_summaries(&self, band_keys: &[i64], other_than: VisitId, limit: u32) -> Result<Vec<SummaryCandidate>, RepoError> {
                if band_keys.is_empty() {
                    return Ok(Vec::new());
                }
                // The visits sharing the most bands first: the likeliest near-copies.
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT v.id, v.rep_id, v.content FROM visits v JOIN (SELECT visit_id, COUNT(*) AS hits FROM summary_bands WHERE band_key IN (",
                );
                let mut keys = qb.separated(", ");
                for k in band_keys {
                    keys.push_bind(*k);
                }
                qb.push(") AND visit_id <> ").push_bind(other_than.0);
                qb.push(" GROUP BY visit_id ORDER BY hits DESC LIMIT ").push_bind(i64::from(limit));
                qb.push(") c ON c.visit_id = v.id ORDER BY c.hits DESC");
                let rows: Vec<(Uuid, Uuid, Json<VisitContent>)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(v, r, c)| SummaryCandidate { visit_id: VisitId(v), rep_id: UserId(r), summary: c.0.summary.unwrap_or_default() })
                    .collect())
            }

            async fn insert_webhook(&self, w: &Webhook) -> Result<(), RepoError> {
                sqlx::query(&format!("INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(w.id)
                    .bind(&w.url)
                    .bind(&w.secret)
                    .bind(Json(&w.events))
                    .bind(w.active)
                    .bind(w.created_by.map(|u| u.0))
                    .bind(w.created_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn get_webhook(&self, id: Uuid) -> Result<Option<Webhook>, RepoError> {
                let row: Option<WebhookRow> = sqlx::query_as(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(webhook_from))
            }

            async fn list_webhooks(&self) -> Result<Vec<Webhook>, RepoError> {
                let rows: Vec<WebhookRow> = sqlx::query_as(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY seq"))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(webhook_from).collect())
            }

            async fn deactivate_webhook(&self, id: Uuid) -> Result<bool, RepoError> {
                let n = sqlx::query("UPDATE webhooks SET active = $2 WHERE id = $1").bind(id).bind(false).execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn create_deliveries(&self, deliveries: &[(Delivery, NewJob)], now: DateTime<Utc>) -> Result<(), RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                for (d, job) in deliveries {
                    let inserted = sqlx::query(
                        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, payload, status, attempts, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) ON CONFLICT DO NOTHING",
                    )
                    .bind(d.id)
                    .bind(d.webhook_id)
                    .bind(d.event_id)
                    .bind(&d.event)
                    .bind(Json(&d.payload))
                    .bind(d.status.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if inserted == 1 {
                        enqueue_job_in(&mut *tx, job, now).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_delivery(&self, id: Uuid) -> Result<Option<Delivery>, RepoError> {
                let row: Option<DeliveryRow> = sqlx::query_as(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(delivery_from).transpose()
            }

            async fn record_delivery_attempt(&self, d: &Delivery) -> Result<(), RepoError> {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $2, attempts = $3, last_status = $4, last_error = $5, updated_at = $6, \
                     delivered_at = $7 WHERE id = $1",
                )
                .bind(d.id)
                .bind(d.status.as_str())
                .bind(d.attempts)
                .bind(d.last_status)
                .bind(&d.last_error)
                .bind(d.updated_at)
                .bind(d.delivered_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_deliveries(&self, webhook_id: Uuid, page: Page) -> Result<Paged<Delivery>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = "));
                qb.push_bind(webhook_id);
                push_page(&mut qb, page, "seq");
                let rows: Vec<DeliveryRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                paginate(rows, page.limit, |r| r.0, delivery_from)
            }

            async fn score_visits(&self, scope: Scope, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<ScoreVisit>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT v.rep_id, v.branch_id, v.method, v.status, v.score, v.deducted_points, \
                     EXISTS (SELECT 1 FROM findings f WHERE f.visit_id = v.id AND f.code = 'upload_late'), \
                     c.class, t.task_type, v.content \
                     FROM visits v JOIN customers c ON c.id = v.customer_id LEFT JOIN tasks t ON t.id = v.task_id \
                     WHERE v.status <> 'draft' AND v.visit_date >= ",
                );
                qb.push_bind(from).push(" AND v.visit_date <= ").push_bind(to);
                push_scope(&mut qb, scope, "v.rep_id", "v.branch_id");
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

            async fn score_tasks(&self, scope: Scope, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<ScoreTasks>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT assignee_id, branch_id, required_method, status, COUNT(*) FROM tasks WHERE due_date >= ");
                qb.push_bind(from).push(" AND due_date <= ").push_bind(to);
                push_scope(&mut qb, scope, "assignee_id", "branch_id");
                qb.push(" GROUP BY assignee_id, branch_id, required_method, status");
                let rows: Vec<(Uuid, Uuid, String, String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(a, b, m, s, n)| ScoreTasks { assignee_id: UserId(a), branch_id: BranchId(b), required_method: m, status: s, count: n })
                    .collect())
            }

            async fn open_revisits(&self, scope: Scope, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<(UserId, BranchId, i64)>, RepoError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT t.assignee_id, t.branch_id, COUNT(*) FROM tasks t JOIN visits v ON v.id = t.origin_visit_id \
                     WHERE t.task_type = 'revisit' AND t.status = 'open' AND v.visit_date >= ",
                );
                qb.push_bind(from).push(" AND v.visit_date <= ").push_bind(to);
                push_scope(&mut qb, scope, "t.assignee_id", "t.branch_id");
                qb.push(" GROUP BY t.assignee_id, t.branch_id");
                let rows: Vec<(Uuid, Uuid, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(a, b, n)| (UserId(a), BranchId(b), n)).collect())
            }

            async fn replace_holidays(&self, year: i32, holidays: &[Holiday], source: HolidaySource) -> Result<(), RepoError> {
                let (from, to) = (
                    chrono::NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| RepoError::Corrupt(format!("year {year}")))?,
                    chrono::NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| RepoError::Corrupt(format!("year {year}")))?,
                );
                let mut tx = self.pool.begin_with($begin_write).await?;
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

            async fn holiday_source(&self, year: i32) -> Result<Option<HolidaySource>, RepoError> {
                let source: Option<String> = sqlx::query_scalar("SELECT source FROM holiday_years WHERE year = $1").bind(year).fetch_optional(&self.pool).await?;
                source.map(|s| HolidaySource::parse(&s).ok_or_else(|| RepoError::Corrupt(format!("holiday source {s:?}")))).transpose()
            }

            async fn list_holidays(&self, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<Vec<Holiday>, RepoError> {
                let rows: Vec<(chrono::NaiveDate, String, String)> =
                    sqlx::query_as("SELECT date, name, kind FROM holidays WHERE date >= $1 AND date <= $2 ORDER BY date")
                        .bind(from)
                        .bind(to)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(date, name, kind)| Holiday { date, name, kind }).collect())
            }

            async fn last_closed_day(&self, branch: BranchId) -> Result<Option<chrono::NaiveDate>, RepoError> {
                Ok(sqlx::query_scalar("SELECT MAX(date) FROM day_closes WHERE branch_id = $1").bind(branch.0).fetch_one(&self.pool).await?)
            }

            async fn close_day(
                &self,
                branch: BranchId,
                date: chrono::NaiveDate,
                now: DateTime<Utc>,
                plan: &(dyn for<'a> Fn(DayCloseFound<'a>) -> DayClosePlan + Send + Sync),
            ) -> Result<Option<DayCloseDone>, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
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
                let classes: std::collections::HashMap<Uuid, String> = classes.into_iter().collect();
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
                missed.sort_by(|a, b| (rank(a.1), a.0.due_date, a.0.id.0).cmp(&(rank(b.1), b.0.due_date, b.0.id.0)));
                let planned = plan(DayCloseFound { late_visits: &late, missed_tasks: &missed });
                let findings: Vec<(VisitId, &Finding)> = planned.findings.iter().map(|(v, f)| (*v, f)).collect();
                insert_findings_in(&mut tx, &findings).await?;
                for job in &planned.jobs {
                    enqueue_job_in(&mut *tx, job, now).await?;
                }
                sqlx::query("UPDATE day_closes SET late_visits = $3, missed_tasks = $4 WHERE branch_id = $1 AND date = $2")
                    .bind(branch.0)
                    .bind(date)
                    .bind(late.len() as i64)
                    .bind(missed.len() as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(DayCloseDone { late_visits: late.iter().map(|v| v.id).collect(), missed_tasks: missed.iter().map(|(t, _)| t.id).collect() }))
            }

            async fn users_by_name(&self, name: &str) -> Result<Vec<User>, RepoError> {
                let rows: Vec<UserRow> = sqlx::query_as("SELECT id, name, role, branch_id FROM users WHERE name = $1").bind(name).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn upsert_customers(&self, customers: &[Customer]) -> Result<UpsertCounts, RepoError> {
                let mut counts = UpsertCounts::default();
                if customers.is_empty() {
                    return Ok(counts);
                }
                let mut tx = self.pool.begin_with($begin_write).await?;
                let mut qb = QueryBuilder::<$db>::new("SELECT code FROM customers WHERE code IN (");
                let mut codes = qb.separated(", ");
                for c in customers {
                    codes.push_bind(&c.code);
                }
                qb.push(")");
                let existing: std::collections::HashSet<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
                for chunk in customers.chunks(400) {
                    let mut qb = QueryBuilder::<$db>::new(format!("INSERT INTO customers ({CUSTOMER_WRITE_COLUMNS}) "));
                    qb.push_values(chunk, |mut b, c| push_customer(&mut b, c));
                    // Only what an import carries is updated, and only when it differs.
                    qb.push(
                        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, customer_type = excluded.customer_type, \
                         branch_id = excluded.branch_id, assigned_rep_id = excluded.assigned_rep_id, latitude = excluded.latitude, \
                         longitude = excluded.longitude, geofence_radius_m = excluded.geofence_radius_m, contact_name = excluded.contact_name, \
                         created_on = excluded.created_on, updated_at = excluded.updated_at \
                         WHERE customers.name IS DISTINCT FROM excluded.name OR customers.customer_type IS DISTINCT FROM excluded.customer_type \
                         OR customers.branch_id IS DISTINCT FROM excluded.branch_id OR customers.assigned_rep_id IS DISTINCT FROM excluded.assigned_rep_id \
                         OR customers.latitude IS DISTINCT FROM excluded.latitude OR customers.longitude IS DISTINCT FROM excluded.longitude \
                         OR customers.geofence_radius_m IS DISTINCT FROM excluded.geofence_radius_m \
                         OR customers.contact_name IS DISTINCT FROM excluded.contact_name OR customers.created_on IS DISTINCT FROM excluded.created_on",
                    );
                    qb.push(" RETURNING code");
                    let written: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                    for code in &written {
                        if existing.contains(code) {
                            counts.updated += 1;
                        } else {
                            counts.created += 1;
                        }
                    }
                    counts.unchanged += (chunk.len() - written.len()) as u64;
                }
                tx.commit().await?;
                Ok(counts)
            }

            async fn customer_ids_by_code(&self, codes: &[String]) -> Result<std::collections::HashMap<String, CustomerId>, RepoError> {
                let mut out = std::collections::HashMap::new();
                for chunk in codes.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new("SELECT code, id FROM customers WHERE code IN (");
                    let mut sep = qb.separated(", ");
                    for c in chunk {
                        sep.push_bind(c);
                    }
                    qb.push(")");
                    let rows: Vec<(String, Uuid)> = qb.build_query_as().fetch_all(&self.pool).await?;
                    out.extend(rows.into_iter().map(|(c, id)| (c, CustomerId(id))));
                }
                Ok(out)
            }

            async fn upsert_volumes(&self, rows: &[(CustomerId, chrono::NaiveDate, i64)]) -> Result<UpsertCounts, RepoError> {
                let mut counts = UpsertCounts::default();
                let mut tx = self.pool.begin_with($begin_write).await?;
                for chunk in rows.chunks(2000) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO shipment_volumes (customer_id, date, awb) ");
                    qb.push_values(chunk, |mut b, (c, d, n)| {
                        b.push_bind(c.0).push_bind(*d).push_bind(*n);
                    });
                    qb.push(
                        " ON CONFLICT (customer_id, date) DO UPDATE SET awb = excluded.awb WHERE shipment_volumes.awb <> excluded.awb",
                    );
                    let written = qb.build().execute(&mut *tx).await?.rows_affected();
                    counts.updated += written;
                    counts.unchanged += chunk.len() as u64 - written;
                }
                tx.commit().await?;
                Ok(counts)
            }

            async fn volume_sum(&self, customer: CustomerId, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<i64, RepoError> {
                let sum: Option<i64> = sqlx::query_scalar("SELECT CAST(SUM(awb) AS BIGINT) FROM shipment_volumes WHERE customer_id = $1 AND date >= $2 AND date <= $3")
                    .bind(customer.0)
                    .bind(from)
                    .bind(to)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(sum.unwrap_or(0))
            }

            async fn volume_sums(
                &self,
                branch: BranchId,
                last_month: (chrono::NaiveDate, chrono::NaiveDate),
                same_span_end: chrono::NaiveDate,
                month_to_date: (chrono::NaiveDate, chrono::NaiveDate),
            ) -> Result<Vec<VolumeSums>, RepoError> {
                // The sums are grouped by customer alone (two months of rows), then joined to the
                // branch's customers.
                let columns: Vec<String> = CUSTOMER_COLUMNS.split(", ").map(|c| format!("c.{}", c.trim())).collect();
                let mut qb = QueryBuilder::<$db>::new(format!(
                    "SELECT {}, CAST(COALESCE(s.lm, 0) AS BIGINT) AS lm, CAST(COALESCE(s.ls, 0) AS BIGINT) AS ls, \
                     CAST(COALESCE(s.mtd, 0) AS BIGINT) AS mtd FROM customers c LEFT JOIN (SELECT customer_id, \
                     SUM(CASE WHEN date <= ", columns.join(", ")
                ));
                qb.push_bind(last_month.1).push(" THEN awb END) AS lm, SUM(CASE WHEN date <= ").push_bind(same_span_end);
                qb.push(" THEN awb END) AS ls, SUM(CASE WHEN date >= ").push_bind(month_to_date.0);
                qb.push(" THEN awb END) AS mtd FROM shipment_volumes WHERE date >= ").push_bind(last_month.0);
                qb.push(" AND date <= ").push_bind(month_to_date.1);
                qb.push(" GROUP BY customer_id) s ON s.customer_id = c.id WHERE c.branch_id = ").push_bind(branch.0);
                qb.push(" ORDER BY c.seq");
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|row| {
                        use sqlx::{FromRow, Row};
                        let customer: Customer = CustomerRow::from_row(&row)?.try_into()?;
                        Ok(VolumeSums { customer, last_month: row.try_get("lm")?, last_month_same_span: row.try_get("ls")?, month_to_date: row.try_get("mtd")? })
                    })
                    .collect()
            }

            async fn change_classes(&self, changes: &[(CustomerId, ClassChange)]) -> Result<(), RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                for (customer, ch) in changes {
                    change_class_in(&mut tx, *customer, ch).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn change_class(&self, customer: CustomerId, ch: &ClassChange) -> Result<(), RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                change_class_in(&mut tx, customer, ch).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn class_history(&self, customer: CustomerId) -> Result<Vec<ClassChange>, RepoError> {
                let rows: Vec<(DateTime<Utc>, String, String, Option<String>, Json<serde_json::Value>)> = sqlx::query_as(
                    "SELECT at, from_class, to_class, previous_level, reason FROM customer_class_history WHERE customer_id = $1 ORDER BY seq",
                )
                .bind(customer.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(at, from, to, prev, reason)| {
                        let class = |s: &str| CustomerClass::parse(s).ok_or_else(|| RepoError::Corrupt(format!("class {s:?}")));
                        Ok(ClassChange { at, from_class: class(&from)?, to_class: class(&to)?, previous_level: prev.as_deref().map(class).transpose()?, reason: reason.0 })
                    })
                    .collect()
            }

            async fn door_visits_by_customer(&self, branch: BranchId, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<std::collections::HashMap<CustomerId, i64>, RepoError> {
                let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                    "SELECT customer_id, COUNT(*) FROM visits WHERE branch_id = $1 AND status <> 'draft' AND method = 'door_visit' \
                     AND visit_date >= $2 AND visit_date <= $3 GROUP BY customer_id",
                )
                .bind(branch.0)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(c, n)| (CustomerId(c), n)).collect())
            }

            async fn insert_planned_tasks(&self, tasks: &[(Task, String)]) -> Result<u64, RepoError> {
                let mut created = 0;
                let mut tx = self.pool.begin_with($begin_write).await?;
                for chunk in tasks.chunks(500) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO tasks (id, customer_id, branch_id, assignee_id, task_type, required_method, due_date, status, \
                         origin_visit_id, origin, note, created_by, created_at, updated_at, plan_key) ",
                    );
                    qb.push_values(chunk, |mut b, (t, key)| {
                        b.push_bind(t.id.0)
                            .push_bind(t.customer_id.0)
                            .push_bind(t.branch_id.0)
                            .push_bind(t.assignee_id.0)
                            .push_bind(t.task_type.as_str())
                            .push_bind(t.required_method.as_str())
                            .push_bind(t.due_date)
                            .push_bind(t.status.as_str())
                            .push_bind(uuid_opt(t.origin_visit_id))
                            .push_bind(&t.origin)
                            .push_bind(&t.note)
                            .push_bind(uuid_opt(t.created_by))
                            .push_bind(t.created_at)
                            .push_bind(t.created_at)
                            .push_bind(key);
                    });
                    qb.push(" ON CONFLICT DO NOTHING");
                    created += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(created)
            }

            async fn earlier_copies(&self, sha256: &str, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<(PhotoId, VisitId)>, RepoError> {
                let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
                    "SELECT id, visit_id FROM photos WHERE sha256 = $1 AND received_at < $2 AND visit_id <> $3 ORDER BY seq LIMIT 10",
                )
                .bind(sha256)
                .bind(before)
                .bind(other_than.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(p, v)| (PhotoId(p), VisitId(v))).collect())
            }

            async fn record_verdict(&self, r: &VerdictRecord) -> Result<VerdictOutcome, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                let updated = sqlx::query(
                    "UPDATE visits SET status = $2, score = $3, submitted_at = $4, updated_at = $4 WHERE id = $1 AND status = 'draft'",
                )
                .bind(r.visit_id.0)
                .bind(r.status.as_str())
                .bind(i64::from(r.score))
                .bind(r.submitted_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Ok(VerdictOutcome::AlreadySubmitted);
                }
                let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE visit_id = $1")
                    .bind(r.visit_id.0)
                    .fetch_one(&mut *tx)
                    .await?;
                if photos != r.photo_count as i64 {
                    return Ok(VerdictOutcome::PhotosChanged);
                }
                // Findings the day close wrote on the draft are superseded by the verdict's own.
                sqlx::query("DELETE FROM findings WHERE visit_id = $1").bind(r.visit_id.0).execute(&mut *tx).await?;
                let findings: Vec<(VisitId, &Finding)> = r.findings.iter().map(|f| (r.visit_id, f)).collect();
                insert_findings_in(&mut tx, &findings).await?;
                if let Some(task) = &r.revisit_task {
                    let (id, created) = place_revisit(&mut tx, task).await?;
                    if let (true, Some(job)) = (created, &r.revisit_created_job) {
                        enqueue_job_in(&mut *tx, job, r.submitted_at).await?;
                    }
                    sqlx::query("UPDATE visits SET revisit_task_id = $2 WHERE id = $1")
                        .bind(r.visit_id.0)
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                }
                for task in &r.new_tasks {
                    insert_task_in(&mut *tx, task).await?;
                }
                if !r.summary_bands.is_empty() {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO summary_bands (band_key, visit_id) ");
                    qb.push_values(&r.summary_bands, |mut b, key| {
                        b.push_bind(*key).push_bind(r.visit_id.0);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for job in &r.jobs {
                    enqueue_job_in(&mut *tx, job, r.submitted_at).await?;
                }
                if let Some(task) = r.completes_task {
                    sqlx::query("UPDATE tasks SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'open'")
                        .bind(task.0)
                        .bind(r.submitted_at)
                        .execute(&mut *tx)
                        .await?;
                }
                append_audit_in(&mut *tx, &r.audit).await?;
                tx.commit().await?;
                Ok(VerdictOutcome::Recorded)
            }

            async fn list_findings(&self, visit: VisitId) -> Result<Vec<Finding>, RepoError> {
                let rows: Vec<FindingRow> = sqlx::query_as(
                    "SELECT photo_id, code, severity, penalty, evidence, message_id, message_en FROM findings \
                     WHERE visit_id = $1 ORDER BY seq",
                )
                .bind(visit.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn record_review(&self, r: &ReviewRecord) -> Result<bool, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                if !record_review_in(&mut tx, r).await? {
                    return Ok(false);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn record_reviews(&self, records: &[ReviewRecord]) -> Result<Option<usize>, RepoError> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                for (i, r) in records.iter().enumerate() {
                    if !record_review_in(&mut tx, r).await? {
                        return Ok(Some(i));
                    }
                }
                tx.commit().await?;
                Ok(None)
            }

            async fn review_queue(&self, f: &VisitFilter, review_statuses: &[ReviewStatus], page: Page) -> Result<Paged<Visit>, RepoError> {
                const PRIORITY: &str = "(CASE v.status WHEN 'non_compliant' THEN 0 WHEN 'flagged' THEN 1 ELSE 2 END)";
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {VISIT_COLUMNS} FROM visits v WHERE v.status <> 'draft'"));
                push_visit_filter(&mut qb, f);
                qb.push(" AND v.review_status IN (");
                let mut statuses = qb.separated(", ");
                for s in review_statuses {
                    statuses.push_bind(s.as_str());
                }
                qb.push(")");
                if let Some(key) = page.before {
                    let (rank, seq) = (key >> QUEUE_RANK_SHIFT, key & ((1 << QUEUE_RANK_SHIFT) - 1));
                    qb.push(format!(" AND ({PRIORITY} > ")).push_bind(rank);
                    qb.push(format!(" OR ({PRIORITY} = ")).push_bind(rank).push(" AND v.seq < ").push_bind(seq).push("))");
                }
                qb.push(format!(" ORDER BY {PRIORITY}, v.seq DESC LIMIT ")).push_bind(i64::from(page.limit) + 1);
                let rows: Vec<VisitRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                paginate(rows, page.limit, |r| (queue_rank(&r.status) << QUEUE_RANK_SHIFT) | r.seq, TryInto::try_into)
            }

            async fn get_review(&self, id: ReviewId) -> Result<Option<Review>, RepoError> {
                let row: Option<ReviewRow> = sqlx::query_as(
                    "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at \
                     FROM reviews WHERE id = $1",
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_reviews(&self, visit: VisitId) -> Result<Vec<Review>, RepoError> {
                let rows: Vec<ReviewRow> = sqlx::query_as(
                    "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at \
                     FROM reviews WHERE visit_id = $1 ORDER BY seq",
                )
                .bind(visit.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn visits_evidence(&self, visits: &[VisitId]) -> Result<VisitsEvidence, RepoError> {
                if visits.is_empty() {
                    return Ok(VisitsEvidence::default());
                }
                let ids = |qb: &mut QueryBuilder<'_, $db>| push_uuids(qb, visits.iter().map(|v| v.0));
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE visit_id IN ("));
                ids(&mut qb);
                qb.push(") ORDER BY seq");
                let photos: Vec<PhotoRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT visit_id, photo_id, code, severity, penalty, evidence, message_id, message_en FROM findings WHERE visit_id IN (",
                );
                ids(&mut qb);
                qb.push(") ORDER BY seq");
                let findings: Vec<VisitFindingRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT id, visit_id, reviewer_id, decision, comment, deduct_points, revisit_task_id, created_at FROM reviews WHERE visit_id IN (",
                );
                ids(&mut qb);
                qb.push(") ORDER BY seq");
                let reviews: Vec<ReviewRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(VisitsEvidence {
                    photos: photos.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
                    findings: findings
                        .into_iter()
                        .map(|r| r.finding.try_into().map(|f| (VisitId(r.visit_id), f)))
                        .collect::<Result<_, _>>()?,
                    reviews: reviews.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
                })
            }

            async fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Customer>, RepoError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ("));
                push_uuids(&mut qb, ids.iter().map(|c| c.0));
                qb.push(")");
                let rows: Vec<CustomerRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn users_by_id(&self, ids: &[UserId]) -> Result<Vec<User>, RepoError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new("SELECT id, name, role, branch_id FROM users WHERE id IN (");
                push_uuids(&mut qb, ids.iter().map(|u| u.0));
                qb.push(")");
                let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn append_audit(&self, entry: &AuditEntry) -> Result<(), RepoError> {
                append_audit_in(&self.pool, entry).await
            }

            async fn list_audit(&self, subject_type: &str, subject_id: &str) -> Result<Vec<AuditEntry>, RepoError> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT at, actor_id, action, subject_type, subject_id, detail FROM audit_log \
                     WHERE subject_type = $1 AND subject_id = $2 ORDER BY seq",
                )
                .bind(subject_type)
                .bind(subject_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }

        impl $repo {
            async fn write_customer(&self, c: &Customer, on_conflict: &str) -> Result<(), RepoError> {
                let mut qb = QueryBuilder::<$db>::new(format!("INSERT INTO customers ({CUSTOMER_WRITE_COLUMNS}, previous_level) "));
                qb.push_values(std::iter::once(c), |mut b, c| {
                    push_customer(&mut b, c);
                    b.push_bind(c.previous_level.map(CustomerClass::as_str));
                });
                qb.push(on_conflict);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_repo;
