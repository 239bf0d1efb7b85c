//! The job queue: unique keys, claims in due order, heartbeats, completion, retries and burial,
//! release of a stopped or stale worker's jobs, the metrics' stats, and pruning.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use fieldproof::db::{NewJob, Repo};
use serde_json::json;
use uuid::Uuid;

use super::{job, mins, t0};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(jobs_run_once_each_in_due_order);

/// `job_stats` by status: (count, oldest run_at).
async fn stats(repo: &dyn Repo, now: DateTime<Utc>) -> BTreeMap<String, (i64, Option<DateTime<Utc>>)> {
    repo.job_stats(now).await.unwrap().into_iter().map(|s| (s.status, (s.count, s.oldest_run_at))).collect()
}

async fn jobs_run_once_each_in_due_order(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let t = t0();
    assert!(repo.job_stats(t).await.unwrap().is_empty(), "a fresh queue has nothing to report");

    // Queued under their keys; the later one first, to show claims go by run_at.
    let later = NewJob { run_at: mins(1), ..job("later") };
    let early = NewJob { payload: json!({"n": 1}), ..job("early") };
    let future = NewJob { run_at: mins(60), ..job("future") };
    for j in [&later, &early, &future] {
        assert!(repo.enqueue_job(j, t).await.unwrap());
    }
    // A unique key already taken: nothing happens. Nor for an id already taken.
    let same_key = NewJob { id: Uuid::new_v4(), ..early.clone() };
    assert!(!repo.enqueue_job(&same_key, t).await.unwrap());
    assert!(repo.get_job(same_key.id).await.unwrap().is_none());
    assert!(!repo.enqueue_job(&NewJob { unique_key: Some("another".into()), ..early.clone() }, t).await.unwrap());
    // Jobs without a key never collide.
    let keyless = || NewJob { unique_key: None, run_at: t + Duration::days(1), ..job("keyless") };
    let (k1, k2) = (keyless(), keyless());
    assert!(repo.enqueue_job(&k1, t).await.unwrap());
    assert!(repo.enqueue_job(&k2, t).await.unwrap());

    let stored = repo.get_job(early.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.id, stored.kind.as_str(), stored.unique_key.clone(), stored.status.as_str(), stored.attempts, stored.run_at),
        (early.id, "early", early.unique_key.clone(), "queued", 0, t)
    );
    assert_eq!((stored.locked_by, stored.last_error), (None, None));
    assert!(repo.get_job(Uuid::new_v4()).await.unwrap().is_none());

    // Stats: how many per status; for `queued`, the oldest already due.
    assert_eq!(stats(repo, mins(-1)).await, [("queued".to_string(), (5, None))].into(), "nothing is due yet");
    assert_eq!(stats(repo, mins(5)).await, [("queued".to_string(), (5, Some(t)))].into());

    // Claims take the oldest due job, counting the attempt, until none is due.
    let a = repo.claim_job("w1", mins(5)).await.unwrap().expect("the earliest job");
    assert_eq!((a.id, a.kind.as_str(), a.payload.clone(), a.attempts), (early.id, "early", json!({"n": 1}), 1));
    let b = repo.claim_job("w2", mins(5)).await.unwrap().expect("the next one");
    assert_eq!((b.id, b.attempts), (later.id, 1));
    assert!(repo.claim_job("w1", mins(5)).await.unwrap().is_none(), "the others are not due");
    let running = repo.get_job(early.id).await.unwrap().unwrap();
    assert_eq!((running.status.as_str(), running.locked_by.as_deref(), running.attempts), ("running", Some("w1"), 1));
    assert_eq!(
        stats(repo, mins(5)).await,
        [("queued".to_string(), (3, None)), ("running".to_string(), (2, Some(t)))].into(),
        "running jobs report their oldest run_at, due or not"
    );

    // Heartbeats: only the worker holding the job.
    assert!(repo.heartbeat_job(early.id, "w1", mins(6)).await.unwrap());
    assert!(!repo.heartbeat_job(early.id, "w2", mins(6)).await.unwrap(), "not w2's job");

    // Completion: only by its worker; done keeps who did it.
    repo.complete_job(early.id, "w2", mins(7)).await.unwrap();
    assert_eq!(repo.get_job(early.id).await.unwrap().unwrap().status, "running", "another worker cannot complete it");
    repo.complete_job(early.id, "w1", mins(10)).await.unwrap();
    let done = repo.get_job(early.id).await.unwrap().unwrap();
    assert_eq!((done.status.as_str(), done.locked_by.as_deref(), done.attempts), ("done", Some("w1"), 1));
    assert!(!repo.heartbeat_job(early.id, "w1", mins(11)).await.unwrap(), "a done job is no longer anyone's");

    // A failed attempt with a retry time is queued again then, the error kept.
    repo.fail_job(later.id, "w2", "timeout", Some(mins(30)), mins(7)).await.unwrap();
    let retry = repo.get_job(later.id).await.unwrap().unwrap();
    assert_eq!(
        (retry.status.as_str(), retry.run_at, retry.locked_by, retry.last_error.as_deref(), retry.attempts),
        ("queued", mins(30), None, Some("timeout"), 1)
    );
    assert!(repo.claim_job("w1", mins(20)).await.unwrap().is_none(), "not before its retry time");
    let again = repo.claim_job("w3", mins(30)).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (later.id, 2), "the second attempt counts");
    // Without a retry time it is dead.
    repo.fail_job(later.id, "w3", "fatal", None, mins(31)).await.unwrap();
    let dead = repo.get_job(later.id).await.unwrap().unwrap();
    assert_eq!((dead.status.as_str(), dead.locked_by, dead.last_error.as_deref(), dead.attempts), ("dead", None, Some("fatal"), 2));
    assert!(repo.claim_job("w1", mins(45)).await.unwrap().is_none(), "a dead job is never claimed");

    // Stale workers: jobs whose heartbeat is older than `stale_before` go back, the attempt not
    // counted; a fresh heartbeat keeps its job.
    let f = repo.claim_job("w4", mins(60)).await.unwrap().unwrap();
    assert_eq!(f.id, future.id);
    let day = t + Duration::days(1);
    let mut claimed = vec![repo.claim_job("w5", day).await.unwrap().unwrap().id, repo.claim_job("w5", day).await.unwrap().unwrap().id];
    claimed.sort();
    let mut keyless_ids = vec![k1.id, k2.id];
    keyless_ids.sort();
    assert_eq!(claimed, keyless_ids);
    assert_eq!(
        stats(repo, day).await,
        [("dead".to_string(), (1, Some(mins(30)))), ("running".to_string(), (3, Some(mins(60))))].into(),
        "done jobs are not reported"
    );
    assert_eq!(repo.release_jobs(None, mins(120), day).await.unwrap(), 1, "only w4's heartbeat is stale");
    let released = repo.get_job(future.id).await.unwrap().unwrap();
    assert_eq!((released.status.as_str(), released.attempts, released.locked_by), ("queued", 0, None));
    assert!(!repo.heartbeat_job(future.id, "w4", day).await.unwrap(), "given back as stale: no longer w4's");
    // A stopping worker gives back all of its running jobs, however fresh.
    assert_eq!(repo.release_jobs(Some("w5"), mins(120), day).await.unwrap(), 2);
    for id in [k1.id, k2.id] {
        let j = repo.get_job(id).await.unwrap().unwrap();
        assert_eq!((j.status.as_str(), j.attempts, j.locked_by), ("queued", 0, None));
    }
    assert_eq!(repo.release_jobs(Some("w5"), mins(120), day).await.unwrap(), 0, "nothing left to give back");
    assert_eq!(repo.claim_job("w6", day).await.unwrap().unwrap().id, future.id, "a released job is claimed again, oldest first");

    // Pruning deletes done jobs last touched before the instant, and nothing else.
    assert_eq!(repo.prune_jobs(mins(10)).await.unwrap(), 0, "completed at that instant, not before");
    assert_eq!(repo.prune_jobs(mins(11)).await.unwrap(), 1);
    assert!(repo.get_job(early.id).await.unwrap().is_none());
    assert_eq!(repo.prune_jobs(t + Duration::days(30)).await.unwrap(), 0, "queued, running and dead jobs stay");
    assert!(repo.get_job(later.id).await.unwrap().is_some());
}
