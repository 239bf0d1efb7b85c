//! The repository conformance suite: the same cases on SQLite and PostgreSQL, straight
//! against the `Repo` trait.

use chrono::{Duration, Utc};
use fieldproof::db::{
    AuditEntry, CustomerFilter, Page, PhotoInsert, Repo, ReviewRecord, TaskFilter, VerdictOutcome, VerdictRecord, VisitFilter,
};
use fieldproof::domain::customer::{Customer, CustomerClass, GeoPoint};
use fieldproof::domain::finding::{Finding, FindingCode, Severity};
use fieldproof::domain::ids::*;
use fieldproof::domain::role::Scope;
use fieldproof::domain::task::{RequiredMethod, Task, TaskStatus, TaskType};
use fieldproof::domain::visit::*;
use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(the_repository_keeps_its_promises);

fn job(kind: &str) -> fieldproof::db::NewJob {
    fieldproof::db::NewJob {
        id: Uuid::new_v4(),
        kind: kind.into(),
        unique_key: Some(format!("{kind}:{}", Uuid::new_v4())),
        payload: json!({}),
        run_at: Utc::now(),
    }
}

fn customer(branch: Uuid, code: &str) -> Customer {
    let now = Utc::now();
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
        created_at: now,
        updated_at: now,
    }
}

fn visit(id: VisitId, rep: Uuid, branch: Uuid, customer: CustomerId) -> Visit {
    let now = Utc::now();
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
            refused: false,
            refusal_reason: None,
        },
        visit_date: Some(now.date_naive()),
        status: VisitStatus::Draft,
        review_status: ReviewStatus::Pending,
        score: None,
        deducted_points: 0,
        submitted_at: None,
        revisit_task_id: None,
        content_hash: "h1".into(),
        created_at: now,
        updated_at: now,
    }
}

fn photo(id: PhotoId, visit: VisitId, key: &str) -> Photo {
    Photo {
        id,
        visit_id: visit,
        kind: PhotoKind::Storefront,
        sha256: "ab".repeat(32),
        size_bytes: 1234,
        content_type: "image/jpeg".into(),
        storage_key: key.into(),
        capture: CaptureMeta { captured_at: Some(Utc::now()), location: None, accuracy_m: Some(5.0), is_mock_location: Some(false) },
        facts: PhotoFacts { format: "jpeg".into(), width: 4000, height: 3000, make: Some("samsung".into()), ..Default::default() },
        findings: vec![],
        received_at: Utc::now(),
    }
}

fn revisit(customer: CustomerId, branch: Uuid, rep: Uuid, origin: VisitId) -> Task {
    Task {
        id: TaskId::new_random(),
        customer_id: customer,
        branch_id: BranchId(branch),
        assignee_id: UserId(rep),
        task_type: TaskType::Revisit,
        required_method: RequiredMethod::DoorVisit,
        due_date: Utc::now().date_naive(),
        status: TaskStatus::Open,
        origin_visit_id: Some(origin),
        origin: "test".into(),
        note: None,
        created_by: None,
        created_at: Utc::now(),
        confirmed_at: None,
        confirmed_by: None,
        confirmation_note: None,
    }
}

fn audit(action: &str, id: VisitId) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor_id: None,
        action: action.into(),
        subject_type: "visit".into(),
        subject_id: id.to_string(),
        detail: json!({"n": 1}),
    }
}

async fn the_repository_keeps_its_promises(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    repo.ping().await.unwrap();
    repo.migrate().await.expect("migrations are re-runnable");

    // Branches and users round-trip; tokens resolve to their user.
    let branch = repo.get_branch(BranchId(app.jkt)).await.unwrap().unwrap();
    assert_eq!((branch.code.as_str(), branch.time_zone), ("JKT", chrono_tz::Asia::Jakarta));
    assert_eq!(repo.branch_by_code("JAP").await.unwrap().unwrap().id.0, app.jap);
    let rep = repo.get_user(UserId(app.rep.id)).await.unwrap().unwrap();
    repo.add_token(rep.id, "hash-1", "t", Utc::now()).await.unwrap();
    repo.add_token(rep.id, "hash-1", "t", Utc::now()).await.expect("adding a token twice is a no-op");
    assert_eq!(repo.user_by_token("hash-1").await.unwrap().unwrap().id, rep.id);
    assert!(repo.user_by_token("nope").await.unwrap().is_none());

    // Customers: unique code, upsert by code, update, filters and pages.
    let c1 = customer(app.jkt, "K1");
    repo.insert_customer(&c1).await.unwrap();
    assert!(matches!(repo.insert_customer(&customer(app.jkt, "K1")).await, Err(ref e) if e.is_conflict_on("customers.code")));
    let mut again = customer(app.jkt, "K1");
    again.name = "Renamed".into();
    repo.upsert_customer_by_code(&again).await.unwrap();
    let stored = repo.get_customer(c1.id).await.unwrap().unwrap();
    assert_eq!((stored.id, stored.name.as_str(), stored.location, stored.geofence_radius_m), (c1.id, "Renamed", c1.location, Some(120.0)));
    let mut changed = stored.clone();
    changed.class = CustomerClass::Lost;
    changed.location = None;
    repo.update_customer(&changed).await.unwrap();
    let stored = repo.get_customer(c1.id).await.unwrap().unwrap();
    assert_eq!((stored.class, stored.location), (CustomerClass::Lost, None));
    for i in 2..=4 {
        repo.insert_customer(&customer(app.jap, &format!("K{i}"))).await.unwrap();
    }
    let jap = CustomerFilter { branch_id: Some(BranchId(app.jap)), ..Default::default() };
    let page1 = repo.list_customers(&jap, Page { before: None, limit: 2 }).await.unwrap();
    assert_eq!(page1.items.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["K4", "K3"]);
    let page2 = repo.list_customers(&jap, Page { before: page1.next, limit: 2 }).await.unwrap();
    assert_eq!((page2.items.len(), page2.next), (1, None));
    let q = CustomerFilter { q: Some("toko k".into()), ..Default::default() };
    assert_eq!(repo.list_customers(&q, Page { before: None, limit: 50 }).await.unwrap().items.len(), 3, "K2..K4 match, K1 was renamed");
    let pct = CustomerFilter { q: Some("%".into()), ..Default::default() };
    assert_eq!(repo.list_customers(&pct, Page { before: None, limit: 50 }).await.unwrap().items.len(), 0, "LIKE wildcards are escaped");

    // Visits: insert once, drafts update, submitted ones do not.
    let vid = VisitId::new_random();
    let v = visit(vid, app.rep.id, app.jkt, c1.id);
    assert!(repo.insert_visit(&v).await.unwrap());
    assert!(!repo.insert_visit(&v).await.unwrap(), "the same id twice inserts once");
    let mut edited = v.clone();
    edited.content.summary = Some("Baru".into());
    edited.content_hash = "h2".into();
    assert!(repo.update_draft_visit(&edited).await.unwrap());
    let got = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((got.content.summary.as_deref(), got.content_hash.as_str()), (Some("Baru"), "h2"));
    assert_eq!(got.content.answers.get("volume_plan").map(String::as_str), Some("naik"));

    // Photos: inserted once; the same id reports what it holds.
    let pid = PhotoId::new_random();
    assert!(matches!(repo.insert_photo(&photo(pid, vid, "photos/aa/bb/one.jpeg"), Utc::now()).await.unwrap(), PhotoInsert::Inserted));
    match repo.insert_photo(&photo(pid, vid, "photos/aa/bb/two.jpeg"), Utc::now()).await.unwrap() {
        PhotoInsert::Exists(p) => assert_eq!(p.storage_key, "photos/aa/bb/one.jpeg"),
        other => panic!("expected Exists, got {other:?}"),
    }
    let photos = repo.list_photos(vid).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].facts.make.as_deref(), Some("samsung"));
    assert_eq!(photos[0].capture.accuracy_m, Some(5.0));
    // Perceptual candidates: any shared 16-bit chunk of either hash, other visits, earlier only.
    let vid2 = VisitId::new_random();
    assert!(repo.insert_visit(&visit(vid2, app.rep.id, app.jkt, c1.id)).await.unwrap());
    let mut hashed = photo(PhotoId::new_random(), vid2, "photos/aa/bb/hashed.jpeg");
    hashed.sha256 = "cd".repeat(32);
    hashed.facts.dhash = Some("11".repeat(32));
    hashed.facts.ahash = Some("00000000000000ff".into());
    assert!(matches!(repo.insert_photo(&hashed, Utc::now()).await.unwrap(), PhotoInsert::Inserted));
    let mut probe = [0x11u8; 32];
    probe[0..30].iter_mut().for_each(|b| *b = 0xEE); // only the last chunk is shared
    let found = repo.hash_candidates(&probe, 0, Utc::now(), VisitId::new_random()).await.unwrap();
    assert_eq!(found.iter().map(|c| (c.photo_id, c.ahash)).collect::<Vec<_>>(), vec![(hashed.id, 0xff)]);
    assert!(
        repo.hash_candidates(&[0xEE; 32], 0xffff_ffff_ffff_0000, Utc::now(), VisitId::new_random()).await.unwrap().is_empty(),
        "no shared chunk"
    );
    assert_eq!(
        repo.hash_candidates(&[0xEE; 32], 0x00ff, Utc::now(), VisitId::new_random()).await.unwrap().len(),
        1,
        "an average-hash chunk is enough"
    );
    assert!(repo.hash_candidates(&probe, 0, Utc::now(), vid2).await.unwrap().is_empty(), "its own visit does not count");
    assert!(
        repo.hash_candidates(&probe, 0, Utc::now() - Duration::hours(1), VisitId::new_random()).await.unwrap().is_empty(),
        "earlier only"
    );
    // Exact copies: earlier photos of other visits only.
    let sha = "ab".repeat(32);
    assert!(repo.earlier_copies(&sha, Utc::now(), vid).await.unwrap().is_empty(), "its own visit does not count");
    assert_eq!(repo.earlier_copies(&sha, Utc::now(), VisitId::new_random()).await.unwrap(), vec![(pid, vid)]);
    assert!(
        repo.earlier_copies(&sha, Utc::now() - Duration::hours(1), VisitId::new_random()).await.unwrap().is_empty(),
        "later copies are not earlier"
    );

    // Verdicts: a stale photo count writes nothing; then once; then never again.
    let finding = Finding {
        code: FindingCode::UploadLate,
        severity: Severity::Major,
        penalty: 15,
        photo_id: Some(pid),
        evidence: json!({"late_minutes": 3}),
        message_id: "id".into(),
        message_en: "en".into(),
    };
    let mut record = VerdictRecord {
        visit_id: vid,
        status: VisitStatus::NonCompliant,
        score: 40,
        submitted_at: Utc::now(),
        findings: vec![finding.clone()],
        photo_count: 0,
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep.id, vid)),
        new_tasks: vec![],
        summary_bands: vec![11, -22, 33],
        jobs: vec![job("visit.submitted")],
        revisit_created_job: Some(job("task.created")),
        completes_task: None,
        audit: audit("visit.submitted", vid),
    };
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::PhotosChanged);
    assert_eq!(repo.get_visit(vid).await.unwrap().unwrap().status, VisitStatus::Draft, "a refused verdict leaves the draft");
    assert!(repo.list_findings(vid).await.unwrap().is_empty());
    record.photo_count = 1;
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::Recorded);
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::AlreadySubmitted);
    let submitted = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((submitted.status, submitted.score), (VisitStatus::NonCompliant, Some(40)));
    let revisit_id = submitted.revisit_task_id.expect("linked re-visit task");
    for j in record.jobs.iter().chain(&record.revisit_created_job) {
        assert!(repo.get_job(j.id).await.unwrap().is_some(), "the verdict's jobs are written with it: {}", j.kind);
    }
    let similar = repo.similar_summaries(&[5, -22, 33, 44], VisitId::new_random(), 20).await.unwrap();
    assert_eq!(similar.iter().map(|c| c.visit_id).collect::<Vec<_>>(), vec![vid], "found by shared bands");
    assert!(repo.similar_summaries(&[-22], vid, 20).await.unwrap().is_empty(), "never the visit itself");
    assert!(repo.similar_summaries(&[], VisitId::new_random(), 20).await.unwrap().is_empty());
    assert_eq!(repo.list_findings(vid).await.unwrap(), vec![finding]);
    assert!(!repo.update_draft_visit(&edited).await.unwrap(), "a submitted visit is frozen");
    assert!(matches!(
        repo.insert_photo(&photo(PhotoId::new_random(), vid, "photos/aa/bb/three.jpeg"), Utc::now()).await.unwrap(),
        PhotoInsert::VisitNotDraft
    ));

    // Reviews: a reject reuses the one open re-visit task.
    let review = Review {
        id: ReviewId::new_random(),
        visit_id: vid,
        reviewer_id: UserId(app.marketing.id),
        decision: Decision::Reject,
        comment: Some("no".into()),
        deduct_points: 7,
        revisit_task_id: None,
        created_at: Utc::now(),
    };
    let record = ReviewRecord {
        review: review.clone(),
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep.id, vid)),
        jobs: vec![job("visit.reviewed")],
        revisit_created_job: Some(job("task.created")),
        audit: audit("visit.reviewed", vid),
    };
    assert!(repo.record_review(&record).await.unwrap());
    assert!(repo.get_job(record.jobs[0].id).await.unwrap().is_some());
    assert!(
        repo.get_job(record.revisit_created_job.as_ref().unwrap().id).await.unwrap().is_none(),
        "no task.created for the re-visit that already existed"
    );
    assert!(!repo.record_review(&record).await.unwrap(), "the same review id twice is recorded once");
    let got = repo.get_review(review.id).await.unwrap().unwrap();
    assert_eq!((got.id, got.revisit_task_id, got.deduct_points, got.decision), (review.id, Some(revisit_id), 7, Decision::Reject));
    assert!(repo.get_review(ReviewId::new_random()).await.unwrap().is_none());
    let reviews = repo.list_reviews(vid).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].revisit_task_id, Some(revisit_id));
    let after = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((after.review_status, after.deducted_points), (ReviewStatus::Rejected, 7));

    // The review queue's batched reads give what the per-visit ones give.
    let other_visit = VisitId::new_random();
    let evidence = repo.visits_evidence(&[vid, other_visit]).await.unwrap();
    assert_eq!(
        evidence.photos.iter().map(|p| p.id).collect::<Vec<_>>(),
        repo.list_photos(vid).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>()
    );
    assert_eq!(evidence.findings, repo.list_findings(vid).await.unwrap().into_iter().map(|f| (vid, f)).collect::<Vec<_>>());
    assert_eq!(evidence.reviews.iter().map(|r| r.id).collect::<Vec<_>>(), vec![review.id]);
    assert!(repo.visits_evidence(&[]).await.unwrap().photos.is_empty());
    let users = repo.users_by_id(&[UserId(app.rep.id), UserId(app.rep2.id), UserId::new_random()]).await.unwrap();
    assert_eq!(users.len(), 2);
    let customers = repo.customers_by_id(&[after.content.customer_id, CustomerId::new_random()]).await.unwrap();
    assert_eq!(customers.iter().map(|c| c.id).collect::<Vec<_>>(), vec![after.content.customer_id]);

    // Tasks: scoped lists and filters.
    let own = TaskFilter {
        scope: Scope::Own(UserId(app.rep.id)),
        assignee_id: None,
        status: Some(TaskStatus::Open),
        due_from: None,
        due_to: None,
        customer_id: None,
        needs_confirmation: None,
    };
    let tasks = repo.list_tasks(&own, Page { before: None, limit: 10 }).await.unwrap();
    assert_eq!(tasks.items.iter().map(|t| t.id).collect::<Vec<_>>(), vec![revisit_id]);
    let other = TaskFilter { scope: Scope::Own(UserId(app.rep2.id)), ..own.clone() };
    assert!(repo.list_tasks(&other, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let t = repo.get_task(revisit_id).await.unwrap().unwrap();
    assert!(!repo.insert_task(&t).await.unwrap(), "the same task id twice inserts once");

    // Visit lists: scope, status and finding code.
    let all = VisitFilter {
        scope: Scope::All,
        status: None,
        review_status: None,
        rep_id: None,
        branch_id: None,
        customer_id: None,
        date_from: None,
        date_to: None,
        finding_code: None,
    };
    let by_code = VisitFilter { finding_code: Some(FindingCode::UploadLate), ..all.clone() };
    assert_eq!(repo.list_visits(&by_code, Page { before: None, limit: 10 }).await.unwrap().items.len(), 1);
    let by_other_code = VisitFilter { finding_code: Some(FindingCode::PhotoNoGps), ..all.clone() };
    assert!(repo.list_visits(&by_other_code, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let jap_scope = VisitFilter { scope: Scope::Branch(BranchId(app.jap)), ..all.clone() };
    assert!(repo.list_visits(&jap_scope, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let tomorrow = VisitFilter { date_from: Some((Utc::now() + Duration::days(2)).date_naive()), ..all.clone() };
    assert!(repo.list_visits(&tomorrow, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());

    // The audit log keeps every entry in order.
    let entries = repo.list_audit("visit", &vid.to_string()).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["visit.submitted", "visit.reviewed"]);
    assert_eq!(entries[0].detail, json!({"n": 1}));
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
