//! The job queue on both databases: one claim per job however many workers ask at once,
//! periodic work once per period, retries with backoff into `dead`, the jobs of a silent worker
//! given back, and the orphan sweep that removes what a killed upload left in the object store.

use std::collections::HashSet;
use std::time::Duration;

use fieldproof::app::jobs::sweep_orphans;
use fieldproof::config::JobsSettings;
use fieldproof::db::NewJob;
use fieldproof::jobs::{Step, Worker};
use fieldproof::storage::{new_photo_key, StorageError};
use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fixture, photo_form, TestApp};

backend_tests!(
    concurrent_workers_claim_each_job_exactly_once,
    periodic_work_is_enqueued_once_per_period_by_any_number_of_instances,
    a_failing_job_backs_off_then_dies_with_its_error,
    a_silent_workers_job_goes_back_to_the_queue,
    orphaned_objects_are_swept_and_referenced_ones_kept,
    the_background_worker_runs_periodic_work_and_stops_cleanly,
);

fn job(kind: &str, unique_key: Option<String>) -> NewJob {
    NewJob {
        id: Uuid::new_v4(),
        kind: kind.into(),
        unique_key,
        payload: json!({}),
        run_at: chrono::Utc::now() - chrono::Duration::seconds(1),
    }
}

fn settings(max_attempts: u32, retry_backoff_ms: u64) -> JobsSettings {
    JobsSettings { max_attempts, retry_backoff_ms, ..JobsSettings::default() }
}

async fn concurrent_workers_claim_each_job_exactly_once(app: TestApp) {
    let now = chrono::Utc::now();
    let mut queued = HashSet::new();
    for _ in 0..60 {
        let j = job("prune_jobs", None);
        queued.insert(j.id);
        assert!(app.app.repo.enqueue_job(&j, now).await.unwrap());
    }
    let claimers = (0..6).map(|w| {
        let repo = app.app.repo.clone();
        tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            while let Some(j) = repo.claim_job(&worker, chrono::Utc::now()).await.expect("claim") {
                assert_eq!(j.attempts, 1);
                mine.push(j.id);
            }
            mine
        })
    });
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    let unique: HashSet<Uuid> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 60, "every job claimed once, none twice");
    assert_eq!(unique, queued);
    let j = app.app.repo.get_job(claimed[0]).await.unwrap().unwrap();
    assert_eq!(j.status, "running");
    assert!(j.locked_by.unwrap().starts_with("worker-"));
}

async fn periodic_work_is_enqueued_once_per_period_by_any_number_of_instances(app: TestApp) {
    use chrono::DurationRound;
    let workers: Vec<Worker> = (0..3).map(|_| Worker::new(app.app.clone(), JobsSettings::default())).collect();
    // A fixed moment a minute into a ten-minute period, so the instances' two calls fall into
    // one period whenever the test runs, and in the past, so the jobs enqueued "now" are due.
    let now = (chrono::Utc::now() - chrono::Duration::minutes(2)).duration_trunc(chrono::Duration::minutes(10)).unwrap()
        + chrono::Duration::minutes(1);
    for w in &workers {
        w.enqueue_periodic(now).await.unwrap();
        w.enqueue_periodic(now + chrono::Duration::seconds(1)).await.unwrap();
    }
    let mut done = Vec::new();
    loop {
        // The instances take turns; whichever asks gets the next job.
        let mut idle = 0;
        for w in &workers {
            match w.step().await.unwrap() {
                Step::Done { kind } => done.push(kind),
                Step::Idle => idle += 1,
                other => panic!("{other:?}"),
            }
        }
        if idle == workers.len() {
            break;
        }
    }
    done.sort();
    // The two branches' day close of yesterday and classification of today are periodic work
    // too: one each; each close sends its digest, and JKT's supervisor gets one event.
    assert_eq!(
        done,
        [
            "classify",
            "classify",
            "daily_digest",
            "daily_digest",
            "day_close",
            "day_close",
            "expire_exports",
            "lead_duplicates",
            "lead_sla",
            "orphan_sweep",
            "prune_jobs",
            "webhook_event"
        ],
        "each periodic job ran once"
    );
    // The key is the period's: a fourth instance later in the same ten minutes adds nothing.
    let slot = now.duration_trunc(chrono::Duration::minutes(10)).unwrap();
    let key = format!("orphan_sweep:{}", slot.format("%Y-%m-%dT%H:%MZ"));
    assert!(!app.app.repo.enqueue_job(&job("orphan_sweep", Some(key)), now).await.unwrap());
}

async fn a_failing_job_backs_off_then_dies_with_its_error(app: TestApp) {
    let failing = job("no_such_kind", None);
    app.app.repo.enqueue_job(&failing, chrono::Utc::now()).await.unwrap();
    // With a long backoff the retry waits: the next step finds nothing due.
    let patient = Worker::new(app.app.clone(), settings(3, 3_600_000));
    assert!(matches!(patient.step().await.unwrap(), Step::Retry { .. }));
    let j = app.app.repo.get_job(failing.id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts, j.locked_by.as_deref()), ("queued", 1, None));
    assert!(j.run_at > chrono::Utc::now() + chrono::Duration::minutes(59), "retry in an hour: {}", j.run_at);
    assert_eq!(patient.step().await.unwrap(), Step::Idle);

    let failing = job("no_such_kind", None);
    app.app.repo.enqueue_job(&failing, chrono::Utc::now()).await.unwrap();
    let eager = Worker::new(app.app.clone(), settings(3, 0));
    assert!(matches!(eager.step().await.unwrap(), Step::Retry { .. }));
    assert!(matches!(eager.step().await.unwrap(), Step::Retry { .. }));
    match eager.step().await.unwrap() {
        Step::Dead { kind, error } => assert_eq!((kind.as_str(), error.as_str()), ("no_such_kind", "unknown job kind \"no_such_kind\"")),
        other => panic!("{other:?}"),
    }
    let j = app.app.repo.get_job(failing.id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts), ("dead", 3));
    assert!(j.last_error.unwrap().contains("unknown job kind"));
    assert_eq!(eager.step().await.unwrap(), Step::Idle, "a dead job is not picked up again");
    let metrics = app.app.metrics_text().await.unwrap();
    assert!(metrics.contains("fieldproof_jobs{status=\"dead\"} 1"), "{metrics}");
}

async fn a_silent_workers_job_goes_back_to_the_queue(app: TestApp) {
    let orphaned = NewJob { run_at: chrono::Utc::now() - chrono::Duration::minutes(5), ..job("prune_jobs", None) };
    app.app.repo.enqueue_job(&orphaned, chrono::Utc::now()).await.unwrap();
    // A worker claimed it a minute ago and died without a word.
    let claimed = app.app.repo.claim_job("ghost", chrono::Utc::now() - chrono::Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(claimed.id, orphaned.id);
    let alive = Worker::new(app.app.clone(), JobsSettings::default());
    assert_eq!(alive.step().await.unwrap(), Step::Done { kind: "prune_jobs".into() });
    let j = app.app.repo.get_job(orphaned.id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts), ("done", 1), "the lost attempt does not count");
    // At shutdown a worker gives back what it holds; the interrupted attempt does not count.
    let held = job("prune_jobs", None);
    app.app.repo.enqueue_job(&held, chrono::Utc::now()).await.unwrap();
    assert_eq!(app.app.repo.claim_job("leaving", chrono::Utc::now()).await.unwrap().unwrap().id, held.id);
    assert_eq!(app.app.repo.release_jobs(Some("leaving"), chrono::Utc::now(), chrono::Utc::now()).await.unwrap(), 1);
    let j = app.app.repo.get_job(held.id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts, j.locked_by), ("queued", 0, None));
    // A finished job's late heartbeat from the ghost changes nothing.
    assert!(!app.app.repo.heartbeat_job(orphaned.id, "ghost", chrono::Utc::now()).await.unwrap());
}

async fn orphaned_objects_are_swept_and_referenced_ones_kept(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    assert_eq!(app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await.status, 201);
    let photo = Uuid::new_v4();
    let r = app.put_photo(visit, photo, &app.rep.token, photo_form("product", fixture("iphone-6.jpg"), &[])).await;
    assert_eq!(r.status, 201);
    let kept = app.app.repo.get_photo(fieldproof::domain::ids::PhotoId(photo)).await.unwrap().unwrap().storage_key;

    let long_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    // An upload killed between the object write and the row: the intent and the object remain.
    let orphan = new_photo_key("jpeg");
    app.app.repo.record_object_intent(&orphan, long_ago).await.unwrap();
    app.app.store.put(&orphan, bytes::Bytes::from_static(b"bytes nobody references")).await.unwrap();
    // One still in its grace period (an upload in flight).
    let recent = new_photo_key("jpeg");
    app.app.repo.record_object_intent(&recent, chrono::Utc::now()).await.unwrap();
    app.app.store.put(&recent, bytes::Bytes::from_static(b"in flight")).await.unwrap();
    // An intent whose row did land (as if the row's transaction raced the sweep): kept.
    app.app.repo.record_object_intent(&kept, long_ago).await.unwrap();

    assert_eq!(sweep_orphans(&app.app, Duration::from_secs(3600)).await.unwrap(), 1);
    assert!(matches!(app.app.store.get(&orphan).await, Err(StorageError::NotFound(_))));
    assert_eq!(app.app.store.get(&recent).await.unwrap(), b"in flight");
    let r = app.get(&format!("/v1/visits/{visit}/photos/{photo}/content"), &app.rep.token).await;
    assert_eq!((r.status, r.bytes.len()), (200, fixture("iphone-6.jpg").len()), "the referenced object is untouched");
    assert_eq!(sweep_orphans(&app.app, Duration::from_secs(3600)).await.unwrap(), 0, "a second sweep finds nothing");
    assert_eq!(sweep_orphans(&app.app, Duration::ZERO).await.unwrap(), 1, "the in-flight one, once its grace is over");
}

async fn the_background_worker_runs_periodic_work_and_stops_cleanly(app: TestApp) {
    // A job due after this day's periodic ones: when it is done, so are they.
    let last = job("prune_jobs", None);
    app.app.repo.enqueue_job(&last, chrono::Utc::now()).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = Worker::new(app.app.clone(), JobsSettings { poll_interval_ms: 20, ..JobsSettings::default() });
    let handle = tokio::spawn(worker.run_until(stopped));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // Done when that job is, and the periodic work the worker enqueued itself (the day closes)
    // has run too.
    loop {
        let last_done = app.app.repo.get_job(last.id).await.unwrap().unwrap().status == "done";
        let stats = app.app.repo.job_stats(chrono::Utc::now()).await.unwrap();
        let busy: i64 = stats.iter().filter(|s| s.status == "queued" || s.status == "running").map(|s| s.count).sum();
        if last_done && busy == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the worker did not work the queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = app.app.metrics_text().await.unwrap();
    assert!(
        metrics.contains("fieldproof_jobs{status=\"queued\"} 0") && metrics.contains("fieldproof_jobs{status=\"running\"} 0"),
        "{metrics}"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle).await.expect("the worker stops when told").unwrap();
}
