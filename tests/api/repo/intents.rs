//! Object intents: recorded before an object is written, dropped when its photo row lands,
//! swept when neither happened.

use fieldproof::db::{PhotoInsert, Repo};
use fieldproof::domain::ids::PhotoId;

use super::{mins, photo, stored_customer, stored_visit};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(object_intents_are_swept_oldest_first_until_their_photo_lands);

fn keyed(list: &[(String, bool)]) -> Vec<(&str, bool)> {
    list.iter().map(|(k, p)| (k.as_str(), *p)).collect()
}

async fn object_intents_are_swept_oldest_first_until_their_photo_lands(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let (k1, k2, k3) = ("photos/aa/bb/1.jpeg", "photos/aa/bb/2.jpeg", "photos/aa/bb/3.jpeg");

    // Recorded once: recording a key again keeps its first instant.
    repo.record_object_intent(k1, mins(0)).await.unwrap();
    repo.record_object_intent(k2, mins(1)).await.unwrap();
    repo.record_object_intent(k3, mins(2)).await.unwrap();
    repo.record_object_intent(k1, mins(5)).await.expect("recording a key twice is a no-op");

    // Stale: recorded before the instant (not at it), oldest first, at most `limit`; none has
    // a photo row.
    assert_eq!(keyed(&repo.stale_object_intents(mins(10), 10).await.unwrap()), [(k1, false), (k2, false), (k3, false)]);
    assert_eq!(keyed(&repo.stale_object_intents(mins(1), 10).await.unwrap()), [(k1, false)], "k1 kept its first instant");
    assert_eq!(keyed(&repo.stale_object_intents(mins(10), 2).await.unwrap()), [(k1, false), (k2, false)]);
    assert!(repo.stale_object_intents(mins(0), 10).await.unwrap().is_empty());

    // The photo row landing drops its object's intent.
    let c = stored_customer(repo, app.jkt).await;
    let v = stored_visit(repo, app.rep.id, app.jkt, c.id).await;
    assert!(matches!(repo.insert_photo(&photo(PhotoId::new_random(), v.id, k2), mins(3)).await.unwrap(), PhotoInsert::Inserted));
    assert_eq!(keyed(&repo.stale_object_intents(mins(10), 10).await.unwrap()), [(k1, false), (k3, false)]);
    // An intent recorded for an object a photo row already references says so (the sweep must
    // keep that object).
    repo.record_object_intent(k2, mins(4)).await.unwrap();
    assert_eq!(keyed(&repo.stale_object_intents(mins(10), 10).await.unwrap()), [(k1, false), (k3, false), (k2, true)]);

    // Dropped: gone from the sweep; dropping an unknown key is harmless.
    repo.drop_object_intent(k1).await.unwrap();
    repo.drop_object_intent("photos/never/recorded.jpeg").await.unwrap();
    assert_eq!(keyed(&repo.stale_object_intents(mins(10), 10).await.unwrap()), [(k3, false), (k2, true)]);
}
