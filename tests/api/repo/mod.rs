//! The repository conformance suite: the same cases on SQLite and PostgreSQL, straight against
//! the `Repo` trait, one case per area (`jobs`, `intents`, `directory` …), each on a fresh
//! database. Every trait method is called at least once for what its doc comment promises.
//!
//! Time is a fixed instant ([`t0`]) and offsets from it, so the suite means the same whenever
//! it runs. The builders here make rows as they would be stored; the cases change what they
//! test.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fieldproof::db::{NewJob, VerdictRecord};
use fieldproof::domain::audit::AuditEntry;
use fieldproof::domain::customer::{Customer, CustomerClass, GeoPoint};
use fieldproof::domain::finding::{Finding, FindingCode, Severity};
use fieldproof::domain::ids::*;
use fieldproof::domain::task::{RequiredMethod, Task, TaskStatus, TaskType};
use fieldproof::domain::visit::*;
use serde_json::json;
use uuid::Uuid;

mod audit;
mod calendar;
mod classes;
mod customers;
mod directory;
mod intents;
mod jobs;
mod leads;
mod photos;
mod reviews;
mod scorecards;
mod sessions;
mod tasks;
mod visits;
mod webhooks;

/// The suite's now: Tuesday 10 November 2026, 10:00 in Jakarta (03:00 UTC).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).unwrap()
}

/// `n` minutes after [`t0`] (before it when negative).
pub fn mins(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

/// A calendar date.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The date of [`t0`]: 2026-11-10.
pub fn today() -> NaiveDate {
    t0().date_naive()
}

/// A job due at [`t0`] under a key of its own.
pub fn job(kind: &str) -> NewJob {
    NewJob {
        id: Uuid::new_v4(),
        kind: kind.into(),
        unique_key: Some(format!("{kind}:{}", Uuid::new_v4())),
        payload: json!({}),
        run_at: t0(),
    }
}

pub fn customer(branch: Uuid, code: &str) -> Customer {
    let now = t0();
    Customer {
        id: CustomerId::new_random(),
        code: code.into(),
        name: format!("Toko {code}"),
        customer_type: "retail".into(),
        branch_id: BranchId(branch),
        assigned_rep_id: None,
        location: Some(GeoPoint::parse(-6.2, 106.8).unwrap()),
        geofence_radius_m: Some(120.0),
        contact_name: Some("Bu Sari".into()),
        contact_position: None,
        contact_phone: None,
        created_on: now.date_naive(),
        class: CustomerClass::C,
        previous_level: None,
        ownership: fieldproof::domain::customer::Ownership::Hq,
        dp: None,
        created_at: now,
        updated_at: now,
    }
}

/// A draft door visit of [`t0`].
pub fn visit(id: VisitId, rep: Uuid, branch: Uuid, customer: CustomerId) -> Visit {
    let now = t0();
    Visit {
        id,
        rep_id: UserId(rep),
        branch_id: BranchId(branch),
        content: VisitContent {
            customer_id: customer,
            task_id: None,
            method: Method::DoorVisit,
            contact_name: Some("Bu Sari".into()),
            contact_position: None,
            contact_phone: None,
            visited_at: Some(now),
            result_reason: None,
            details: None,
            next_steps: None,
            next_follow_up_at: None,
            summary: Some("Ringkasan".into()),
            answers: [("volume_plan".to_string(), "naik".to_string())].into(),
            reason_details: Default::default(),
            refused: false,
            refusal_reason: None,
            attendance: None,
        },
        visit_date: Some(now.date_naive()),
        status: VisitStatus::Draft,
        review_status: ReviewStatus::Pending,
        score: None,
        deducted_points: 0,
        submitted_at: None,
        revisit_task_id: None,
        needs_hq_help: false,
        review_due_date: None,
        review_escalated_at: None,
        policy_version: None,
        content_hash: "h1".into(),
        created_at: now,
        updated_at: now,
    }
}

/// A storefront photo received at [`t0`], without perceptual hashes.
pub fn photo(id: PhotoId, visit: VisitId, key: &str) -> Photo {
    Photo {
        id,
        visit_id: visit,
        kind: PhotoKind::Storefront,
        sha256: "ab".repeat(32),
        size_bytes: 1234,
        content_type: "image/jpeg".into(),
        storage_key: key.into(),
        capture: CaptureMeta { captured_at: Some(mins(-5)), location: None, accuracy_m: Some(5.0), is_mock_location: Some(false) },
        facts: PhotoFacts { format: "jpeg".into(), width: 4000, height: 3000, make: Some("samsung".into()), ..Default::default() },
        findings: vec![],
        received_at: t0(),
    }
}

/// An open task of `task_type`, due on `due`, created at [`t0`].
pub fn task(customer: CustomerId, branch: Uuid, assignee: Uuid, task_type: TaskType, due: NaiveDate) -> Task {
    Task {
        id: TaskId::new_random(),
        customer_id: customer,
        branch_id: BranchId(branch),
        assignee_id: UserId(assignee),
        task_type,
        required_method: RequiredMethod::DoorVisit,
        due_date: due,
        status: TaskStatus::Open,
        origin_visit_id: None,
        origin: "test".into(),
        note: None,
        created_by: None,
        created_at: t0(),
        confirmed_at: None,
        confirmed_by: None,
        confirmation_note: None,
    }
}

/// The re-visit task a failed `origin` visit asks for, due [`today`].
pub fn revisit(customer: CustomerId, branch: Uuid, rep: Uuid, origin: VisitId) -> Task {
    Task { origin_visit_id: Some(origin), ..task(customer, branch, rep, TaskType::Revisit, today()) }
}

pub fn audit(action: &str, id: VisitId) -> AuditEntry {
    AuditEntry {
        at: t0(),
        actor_id: None,
        action: action.into(),
        subject_type: "visit".into(),
        subject_id: id.to_string(),
        detail: json!({"n": 1}),
    }
}

pub fn finding(code: FindingCode, photo: Option<PhotoId>) -> Finding {
    Finding {
        code,
        severity: Severity::Major,
        penalty: 15,
        photo_id: photo,
        evidence: json!({"late_minutes": 3}),
        message_id: "id".into(),
        message_en: "en".into(),
    }
}

/// The plainest verdict on a visit without photos: a status and a score, submitted 30 minutes
/// after [`t0`], nothing else caused.
pub fn verdict(visit: VisitId, status: VisitStatus, score: u32) -> VerdictRecord {
    VerdictRecord {
        visit_id: visit,
        status,
        score,
        submitted_at: mins(30),
        findings: vec![],
        photo_count: 0,
        revisit_task: None,
        new_tasks: vec![],
        summary_bands: vec![],
        jobs: vec![],
        revisit_created_job: None,
        completes_task: None,
        needs_hq_help: false,
        review_due_date: None,
        policy_version: None,
        audit: audit("visit.submitted", visit),
    }
}

/// A customer of `branch` with a fresh code, stored.
pub async fn stored_customer(repo: &dyn fieldproof::db::Repo, branch: Uuid) -> Customer {
    let c = customer(branch, &format!("C{}", &Uuid::new_v4().simple().to_string()[..10]));
    repo.insert_customer(&c).await.unwrap();
    c
}

/// A draft visit of [`t0`] by `rep`, stored.
pub async fn stored_visit(repo: &dyn fieldproof::db::Repo, rep: Uuid, branch: Uuid, customer: CustomerId) -> Visit {
    let v = visit(VisitId::new_random(), rep, branch, customer);
    assert!(repo.insert_visit(&v).await.unwrap());
    v
}

/// The first page of `limit` rows.
pub fn first(limit: u32) -> fieldproof::domain::page::Page {
    fieldproof::domain::page::Page { before: None, limit }
}

/// Every visit, unfiltered.
pub fn all_visits() -> fieldproof::db::VisitFilter {
    fieldproof::db::VisitFilter::any()
}

/// Migration 0003 moves the near-duplicate index from 16-bit chunk columns to slot keys; a
/// photo hashed before it must be found after it, on both databases.
mod hash_keys_migration {
    use fieldproof::db::{hash_keys, probe_keys};
    use sqlx::migrate::Migrator;
    use sqlx::{Connection, Executor};

    fn hashes() -> ([u8; 32], u64) {
        let dhash: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        (dhash, 0xF00D_CAFE_1234_8001)
    }

    fn chunk_values(dhash: &[u8; 32], ahash: u64) -> Vec<i64> {
        let c = (0..16).map(|i| i64::from(u16::from_le_bytes([dhash[2 * i], dhash[2 * i + 1]])));
        c.chain((0..4).map(|i| ((ahash >> (16 * i)) & 0xFFFF) as i64)).collect()
    }

    const OLD_INSERT: &str = "INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash, c0, c1, c2, c3, c4, c5, c6, c7, \
        c8, c9, c10, c11, c12, c13, c14, c15, a0, a1, a2, a3) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
        $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";

    macro_rules! check {
        ($conn:expr, $migrator:expr, $photo:expr) => {{
            let (dhash, ahash) = hashes();
            let mut up_to_2 = Migrator {
                migrations: std::borrow::Cow::Owned($migrator.migrations.iter().filter(|m| m.version <= 2).cloned().collect()),
                ..$migrator
            };
            up_to_2.set_ignore_missing(true);
            up_to_2.run(&mut $conn).await.unwrap();
            let mut q = sqlx::query(OLD_INSERT).bind($photo).bind($photo).bind(chrono::Utc::now()).bind(dhash.to_vec()).bind(ahash as i64);
            for c in chunk_values(&dhash, ahash) {
                q = q.bind(c);
            }
            q.execute(&mut $conn).await.unwrap();
            $migrator.set_ignore_missing(true).run(&mut $conn).await.unwrap();
            let mut keys: Vec<i64> =
                sqlx::query_scalar("SELECT key FROM photo_hash_keys ORDER BY key").fetch_all(&mut $conn).await.unwrap();
            keys.sort();
            let mut expected = hash_keys(&dhash, ahash).to_vec();
            expected.sort();
            assert_eq!(keys, expected, "backfilled keys equal the ones a new photo gets");
            // A copy 15 bits away (2 bits in 7 chunks, 1 in the last) still shares a probed key.
            let mut near = dhash;
            for chunk in 0..8 {
                near[4 * chunk] ^= if chunk == 7 { 0b1 } else { 0b101 };
            }
            let probes = probe_keys(&near, ahash ^ 0b111);
            assert!(keys.iter().any(|k| probes.contains(k)));
        }};
    }

    #[tokio::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}/m.db?mode=rwc", dir.path().display())).await.unwrap();
        conn.execute("PRAGMA foreign_keys = OFF").await.unwrap(); // the old row has no photo behind it
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        check!(conn, migrator, uuid::Uuid::new_v4());
    }

    #[tokio::test]
    async fn postgres() {
        let Some(base) = crate::helpers::postgres_url() else { return };
        let url = crate::helpers::new_postgres_database(&base).await;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        // The old row has no photo behind it; skip the foreign-key triggers for this session.
        conn.execute("SET session_replication_role = replica").await.unwrap();
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        check!(conn, migrator, uuid::Uuid::new_v4());
    }
}
