//! The faults a real deployment meets, injected into real parts while phones upload, each on both
//! backends: the photo disk full (ENOSPC, a real tmpfs of a few MiB) or remounted read-only, and
//! the object store (a Garage of the test's own) killed and started again. Each ends with the
//! same proof: every photo the server said it kept is there once, with its bytes; nothing it
//! refused left a row or a file behind; and the orphan sweep removes what a half-finished upload
//! left, never a referenced object. (PostgreSQL ending the server's sessions under load, kill -9
//! of the server and the clock stepping across midnight: `errors.rs`, `cluster.rs`,
//! `day_close.rs`.)
//!
//! The disk faults mount a tmpfs, which needs root (or CAP_SYS_ADMIN): without it they are
//! skipped, unless `FIELDPROOF_REQUIRE_MOUNT=1` (set by `.ci/run`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fieldproof::config::StorageSettings;
use sha2::Digest;
use uuid::Uuid;

use crate::helpers::{spawn_app_tuned, with_customer_photo, Db, TestApp};

crate::backend_db_tests!(a_full_or_read_only_photo_disk_loses_nothing, the_object_store_stopped_and_started_under_load_loses_nothing);

/// A tmpfs mounted for one test, unmounted when dropped (even after a failed assertion).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::Builder::new().prefix("fp-tmpfs-").tempdir().unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir.path()).output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert_ne!(std::env::var("FIELDPROOF_REQUIRE_MOUNT").as_deref(), Ok("1"), "FIELDPROOF_REQUIRE_MOUNT=1 but: {why}");
                crate::garage::skipped(&format!("the disk faults (mounting a tmpfs failed: {})", why.trim()));
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(self.path()).output().unwrap();
        assert!(out.status.success(), "remount {mode}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Every regular file under the mount but `except`.
    fn files(&self, except: &Path) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out.retain(|p| p != except);
        out
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A rep's photo of the customer, taken just now at the customer's place (264 kB).
fn photo() -> reqwest::multipart::Form {
    with_customer_photo(-6.2, 106.8)
}

/// The photos of a visit as its rep reads them: id → sha256.
async fn photos_of(app: &TestApp, visit: Uuid) -> Vec<(String, String)> {
    let r = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["sha256"].as_str().unwrap().to_string()))
        .collect()
}

/// After the orphan sweep (no grace): every photo the server lists is in the store with its own
/// bytes, once, and the store holds nothing else.
async fn nothing_lost_or_left(app: &TestApp, visit: Uuid, want: usize) {
    fieldproof::app::jobs::sweep_orphans(&app.app, Duration::ZERO).await.unwrap();
    let photos = photos_of(app, visit).await;
    assert_eq!(photos.len(), want, "{photos:?}");
    assert_eq!(app.object_count().await, want, "one object a photo, and no other");
    for (id, sum) in &photos {
        let r = app.get(&format!("/v1/visits/{visit}/photos/{id}/content"), &app.rep.token).await;
        assert_eq!(r.status, 200, "{id}: {}", r.json);
        assert_eq!(&sha(&r.bytes), sum, "{id} has its own bytes");
    }
}

async fn a_draft(app: &TestApp) -> Uuid {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    visit
}

/// Uploads `photos` at once; each answer's status and code.
async fn upload_all(app: &TestApp, visit: Uuid, photos: &[Uuid]) -> Vec<(u16, String)> {
    let uploads = photos.iter().map(|p| async move {
        let r = app.put_photo(visit, *p, &app.rep.token, photo()).await;
        let code = if r.status >= 400 { r.code().to_string() } else { String::new() };
        (r.status, code)
    });
    futures_util::future::join_all(uploads).await
}

async fn a_full_or_read_only_photo_disk_loses_nothing(db: Db) {
    let Some(disk) = Tmpfs::mount("4m") else { return };
    let root = disk.path().to_path_buf();
    let app = spawn_app_tuned(db, move |s| {
        s.storage = StorageSettings { url: format!("file://{}", root.display()), ..Default::default() };
    })
    .await;
    let visit = a_draft(&app).await;
    let first = Uuid::new_v4();
    assert_eq!(app.put_photo(visit, first, &app.rep.token, photo()).await.status, 201);

    // Another process fills the disk until about two photos fit; six phones upload at once.
    let filler = disk.path().join("filler");
    let room = 2 * 264_250 + 100_000;
    let free = rustix::fs::statvfs(disk.path()).map(|s| s.f_bavail * s.f_frsize).unwrap();
    std::fs::write(&filler, vec![1u8; (free as usize).saturating_sub(room)]).unwrap();
    let batch: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let answers = upload_all(&app, visit, &batch).await;
    assert!(answers.iter().all(|(s, c)| *s == 201 || (*s == 507 && c == "storage_full")), "{answers:?}");
    let refused: Vec<Uuid> = batch.iter().zip(&answers).filter(|(_, (s, _))| *s == 507).map(|(p, _)| *p).collect();
    assert!(!refused.is_empty(), "the disk filled: {answers:?}");
    let kept = 1 + batch.len() - refused.len();
    // No row without its file, no file without its row, no half-written file.
    assert_eq!(photos_of(&app, visit).await.len(), kept);
    assert_eq!(disk.files(&filler).len(), kept, "{:?}", disk.files(&filler));

    // Space is freed: the same requests again, and every photo is kept once.
    std::fs::remove_file(&filler).unwrap();
    for p in &refused {
        let r = app.put_photo(visit, *p, &app.rep.token, photo()).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    let retried = app.put_photo(visit, batch[0], &app.rep.token, photo()).await;
    assert!(matches!(retried.status, 200 | 409), "a photo kept before is not stored twice: {}", retried.json);
    nothing_lost_or_left(&app, visit, 1 + batch.len()).await;

    // Remounted read-only (a failing disk): uploads are refused with their own code, stored
    // photos are still served; writable again, the retry is kept.
    disk.remount("ro");
    let late = Uuid::new_v4();
    let r = app.put_photo(visit, late, &app.rep.token, photo()).await;
    assert_eq!((r.status, r.code()), (503, "storage_read_only"), "{}", r.json);
    let ready = app.send(reqwest::Method::GET, "/readyz", None, crate::helpers::Body::None).await;
    assert_eq!((ready.status, ready.code()), (503, "storage_unavailable"), "{}", ready.json);
    disk.remount("rw");
    assert_eq!(app.put_photo(visit, late, &app.rep.token, photo()).await.status, 201);
    let files = disk.files(&filler);
    assert_eq!(files.len(), 2 + batch.len(), "{files:?}");
    nothing_lost_or_left(&app, visit, 2 + batch.len()).await;
}

async fn the_object_store_stopped_and_started_under_load_loses_nothing(db: Db) {
    let Some(garage) = crate::garage::own_garage() else { return };
    let storage = garage.new_bucket();
    let app = spawn_app_tuned(db, move |s| s.storage = storage).await;
    let visit = a_draft(&app).await;
    let first = Uuid::new_v4();
    assert_eq!(app.put_photo(visit, first, &app.rep.token, photo()).await.status, 201);

    // Killed: uploads and downloads say the store is down, and so does readiness.
    garage.stop();
    let second = Uuid::new_v4();
    let r = app.put_photo(visit, second, &app.rep.token, photo()).await;
    assert_eq!((r.status, r.code()), (503, "storage_unavailable"), "{}", r.json);
    let r = app.get(&format!("/v1/visits/{visit}/photos/{first}/content"), &app.rep.token).await;
    assert_eq!((r.status, r.code()), (503, "storage_unavailable"), "{}", r.json);
    let ready = app.send(reqwest::Method::GET, "/readyz", None, crate::helpers::Body::None).await;
    assert_eq!((ready.status, ready.code()), (503, "storage_unavailable"), "{}", ready.json);

    // Four phones (and the refused one) keep retrying while the store is down; once each has
    // been refused, it comes back, and every phone gets through.
    let phones: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    let refused = std::sync::atomic::AtomicUsize::new(0);
    let retrying = phones.iter().chain([&second]).map(|p| {
        let (app, refused) = (&app, &refused);
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut refusals = 0;
            loop {
                let r = app.put_photo(visit, *p, &app.rep.token, photo()).await;
                match r.status {
                    201 => return refusals,
                    503 if r.code() == "storage_unavailable" => refusals += 1,
                    other => panic!("{p}: {other} {}", r.json),
                }
                if refusals == 1 {
                    refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                assert!(Instant::now() < deadline, "{p} never got through");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    let restart = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while refused.load(std::sync::atomic::Ordering::SeqCst) < phones.len() + 1 {
            assert!(Instant::now() < deadline, "the phones were not all refused");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::task::block_in_place(|| garage.start_again());
    };
    let (refusals, ()) = tokio::join!(futures_util::future::join_all(retrying), restart);
    assert!(refusals.iter().all(|n| *n > 0), "each phone met the stopped store: {refusals:?}");

    // What a server killed between the object and its row leaves (an intent and an object, no
    // photo): the sweep removes it, and nothing the visit holds.
    let orphan = fieldproof::storage::new_photo_key("jpeg");
    app.app.repo.record_object_intent(&orphan, app.now() - chrono::Duration::hours(2)).await.unwrap();
    app.app.store.put(&orphan, bytes::Bytes::from_static(b"half of an upload")).await.unwrap();
    assert_eq!(app.object_count().await, 3 + phones.len());
    nothing_lost_or_left(&app, visit, 2 + phones.len()).await;
    assert!(matches!(app.app.store.get(&orphan).await, Err(fieldproof::storage::StorageError::NotFound(_))));
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
}
