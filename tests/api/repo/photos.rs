//! Photos: stored once while the visit is a draft, read back, and the two indexes that find an
//! earlier copy (the same bytes) or a near duplicate (shared perceptual-hash chunks).

use chrono::Duration;
use fieldproof::db::{PhotoInsert, Repo, VerdictOutcome, VerdictRecord};
use fieldproof::domain::ids::*;
use fieldproof::domain::visit::*;

use super::{mins, photo, stored_customer, stored_visit, t0, verdict};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(photos_are_stored_once_and_found_again_by_their_bytes_and_hashes);

async fn photos_are_stored_once_and_found_again_by_their_bytes_and_hashes(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let c1 = stored_customer(repo, app.jkt).await;
    let vid = stored_visit(repo, app.rep.id, app.jkt, c1.id).await.id;

    // Inserted once; the same id reports what it holds, and keeps it.
    let pid = PhotoId::new_random();
    let one = photo(pid, vid, "photos/aa/bb/one.jpeg");
    assert!(matches!(repo.insert_photo(&one, t0()).await.unwrap(), PhotoInsert::Inserted));
    match repo.insert_photo(&photo(pid, vid, "photos/aa/bb/two.jpeg"), t0()).await.unwrap() {
        PhotoInsert::Exists(p) => assert_eq!(p.storage_key, "photos/aa/bb/one.jpeg"),
        other => panic!("expected Exists, got {other:?}"),
    }
    assert_eq!(repo.get_photo(pid).await.unwrap().unwrap(), one, "a photo round-trips, capture and facts included");
    assert!(repo.get_photo(PhotoId::new_random()).await.unwrap().is_none());
    let photos = repo.list_photos(vid).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].facts.make.as_deref(), Some("samsung"));
    assert_eq!(photos[0].capture.accuracy_m, Some(5.0));
    // A visit's photos are listed in the order they came; other visits' are not.
    let mut second = photo(PhotoId::new_random(), vid, "photos/aa/bb/second.jpeg");
    second.sha256 = "01".repeat(32);
    second.kind = PhotoKind::WithCustomer;
    assert!(matches!(repo.insert_photo(&second, t0()).await.unwrap(), PhotoInsert::Inserted));
    assert_eq!(repo.list_photos(vid).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>(), vec![pid, second.id]);
    assert!(repo.list_photos(VisitId::new_random()).await.unwrap().is_empty());

    // Perceptual candidates: any shared 16-bit chunk of either hash, other visits, earlier only.
    let vid2 = VisitId::new_random();
    assert!(repo.insert_visit(&super::visit(vid2, app.rep.id, app.jkt, c1.id)).await.unwrap());
    let mut hashed = photo(PhotoId::new_random(), vid2, "photos/aa/bb/hashed.jpeg");
    hashed.sha256 = "cd".repeat(32);
    hashed.facts.dhash = Some("11".repeat(32));
    hashed.facts.ahash = Some("00000000000000ff".into());
    assert!(matches!(repo.insert_photo(&hashed, t0()).await.unwrap(), PhotoInsert::Inserted));
    let later = mins(1);
    let mut probe = [0x11u8; 32];
    probe[0..30].iter_mut().for_each(|b| *b = 0xEE); // only the last chunk is shared
    let found = repo.hash_candidates(&probe, 0, later, VisitId::new_random()).await.unwrap();
    assert_eq!(found.iter().map(|c| (c.photo_id, c.ahash)).collect::<Vec<_>>(), vec![(hashed.id, 0xff)]);
    assert_eq!((found[0].visit_id, found[0].dhash), (vid2, [0x11; 32]), "with its visit and its whole dHash");
    assert!(
        repo.hash_candidates(&[0xEE; 32], 0xffff_ffff_ffff_0000, later, VisitId::new_random()).await.unwrap().is_empty(),
        "no shared chunk"
    );
    assert_eq!(
        repo.hash_candidates(&[0xEE; 32], 0x00ff, later, VisitId::new_random()).await.unwrap().len(),
        1,
        "an average-hash chunk is enough"
    );
    assert!(repo.hash_candidates(&probe, 0, later, vid2).await.unwrap().is_empty(), "its own visit does not count");
    assert!(repo.hash_candidates(&probe, 0, later - Duration::hours(1), VisitId::new_random()).await.unwrap().is_empty(), "earlier only");
    assert!(
        repo.hash_candidates(&probe, 0, t0(), VisitId::new_random()).await.unwrap().is_empty(),
        "received at `before` is not before it"
    );

    // Exact copies: earlier photos of other visits only.
    let sha = "ab".repeat(32);
    assert!(repo.earlier_copies(&sha, later, vid).await.unwrap().is_empty(), "its own visit does not count");
    assert_eq!(repo.earlier_copies(&sha, later, VisitId::new_random()).await.unwrap(), vec![(pid, vid)]);
    assert!(
        repo.earlier_copies(&sha, later - Duration::hours(1), VisitId::new_random()).await.unwrap().is_empty(),
        "later copies are not earlier"
    );
    assert!(repo.earlier_copies(&"ff".repeat(32), later, VisitId::new_random()).await.unwrap().is_empty());
    // At most ten, the oldest first.
    let vid3 = stored_visit(repo, app.rep2.id, app.jkt, c1.id).await.id;
    let mut copies = Vec::new();
    for i in 0..11 {
        let mut p = photo(PhotoId::new_random(), vid3, &format!("photos/aa/bb/copy-{i}.jpeg"));
        p.sha256 = "ee".repeat(32);
        assert!(matches!(repo.insert_photo(&p, t0()).await.unwrap(), PhotoInsert::Inserted));
        copies.push((p.id, vid3));
    }
    assert_eq!(repo.earlier_copies(&"ee".repeat(32), later, vid).await.unwrap(), copies[..10]);

    // Once the visit is submitted, no photo is added to it; a retry of one it has still says
    // what it holds.
    let record = VerdictRecord { photo_count: 2, ..verdict(vid, VisitStatus::Compliant, 100) };
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::Recorded);
    assert!(matches!(
        repo.insert_photo(&photo(PhotoId::new_random(), vid, "photos/aa/bb/three.jpeg"), t0()).await.unwrap(),
        PhotoInsert::VisitNotDraft
    ));
    assert!(matches!(repo.insert_photo(&one, t0()).await.unwrap(), PhotoInsert::Exists(p) if *p == one));
    assert_eq!(repo.list_photos(vid).await.unwrap().len(), 2);
}
