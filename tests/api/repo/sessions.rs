//! The console's sign-in records: logins and password hashes, sessions, and the throttle.

use fieldproof::db::Repo;
use fieldproof::domain::directory::Locale;
use fieldproof::domain::ids::{BranchId, UserId};

use super::{mins, t0};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(sessions_logins_and_the_throttle_are_kept);

async fn sessions_logins_and_the_throttle_are_kept(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let hq = UserId(app.hq.id);
    let rep = UserId(app.rep.id);

    // Logins are unique; credentials come back by login and by id, with the hash and flags.
    repo.set_login(hq, "hana").await.unwrap();
    let taken = repo.set_login(rep, "hana").await.unwrap_err();
    assert!(taken.is_conflict_on("users.login"), "{taken:?}");
    assert!(repo.credentials_by_login("hana").await.unwrap().unwrap().password_hash.is_none(), "no password until one is set");
    assert!(repo.set_password(hq, "$argon2id$stand-in", true).await.unwrap());
    assert!(!repo.set_password(UserId(uuid::Uuid::new_v4()), "x", false).await.unwrap(), "no such user");
    let c = repo.credentials_by_login("hana").await.unwrap().unwrap();
    assert_eq!(
        (c.user.id, c.login.as_str(), c.password_hash.as_deref(), c.must_change, c.locale),
        (hq, "hana", Some("$argon2id$stand-in"), true, Locale::Id)
    );
    assert!(repo.credentials_by_login("Hana").await.unwrap().is_none(), "logins match exactly");
    repo.set_locale(hq, Locale::En).await.unwrap();
    assert_eq!(repo.credentials_of(hq).await.unwrap().unwrap().locale, Locale::En);
    assert!(repo.credentials_of(UserId(uuid::Uuid::new_v4())).await.unwrap().is_none());

    // Sessions: created, read with their user, touched forward only, ended one or all.
    repo.create_session("s1", hq, "csrf1", t0()).await.unwrap();
    repo.create_session("s2", hq, "csrf2", t0()).await.unwrap();
    repo.create_session("s3", hq, "csrf3", t0()).await.unwrap();
    let s = repo.get_session("s1").await.unwrap().unwrap();
    assert_eq!((s.csrf_token.as_str(), s.credentials.user.id, s.created_at, s.last_seen_at, s.ended_at), ("csrf1", hq, t0(), t0(), None));
    repo.touch_session("s1", mins(10)).await.unwrap();
    repo.touch_session("s1", mins(5)).await.unwrap();
    assert_eq!(repo.get_session("s1").await.unwrap().unwrap().last_seen_at, mins(10), "never moves back");
    repo.end_session("s1", mins(11)).await.unwrap();
    repo.end_session("s1", mins(12)).await.unwrap();
    assert_eq!(repo.get_session("s1").await.unwrap().unwrap().ended_at, Some(mins(11)), "ending twice keeps the first end");
    repo.touch_session("s1", mins(20)).await.unwrap();
    assert_eq!(repo.get_session("s1").await.unwrap().unwrap().last_seen_at, mins(10), "an ended session is not touched");
    assert_eq!(repo.end_sessions_of(hq, mins(13), Some("s3")).await.unwrap(), 1, "s2 ends, s3 is kept");
    assert!(repo.get_session("s3").await.unwrap().unwrap().ended_at.is_none());
    assert_eq!(repo.end_sessions_of(hq, mins(14), None).await.unwrap(), 1);
    assert!(repo.get_session("nope").await.unwrap().is_none());

    // The throttle: failures count within the window and restart after it; locks and clears.
    let key = "login:hana".to_string();
    assert_eq!(repo.record_sign_in_failure(&key, mins(0), mins(-15)).await.unwrap(), 1);
    assert_eq!(repo.record_sign_in_failure(&key, mins(1), mins(-14)).await.unwrap(), 2);
    assert_eq!(repo.record_sign_in_failure(&key, mins(30), mins(15)).await.unwrap(), 1, "older failures are forgotten");
    assert_eq!(repo.sign_in_locked_until(std::slice::from_ref(&key)).await.unwrap(), None);
    repo.record_sign_in_failure("addr:127.0.0.1", mins(30), mins(15)).await.unwrap();
    repo.lock_sign_in(&key, mins(31)).await.unwrap();
    repo.lock_sign_in("addr:127.0.0.1", mins(40)).await.unwrap();
    let both = [key.clone(), "addr:127.0.0.1".to_string()];
    assert_eq!(repo.sign_in_locked_until(&both).await.unwrap(), Some(mins(40)), "the latest lock of any key");
    assert_eq!(repo.sign_in_locked_until(&[]).await.unwrap(), None);
    repo.clear_sign_in_failures(&key).await.unwrap();
    assert_eq!(repo.sign_in_locked_until(std::slice::from_ref(&key)).await.unwrap(), None);
    assert_eq!(repo.record_sign_in_failure(&key, mins(32), mins(17)).await.unwrap(), 1, "cleared");

    // The console's pickers: a branch's users by name, or everyone.
    let jkt = repo.list_users(Some(BranchId(app.jkt))).await.unwrap();
    assert_eq!(jkt.len(), 4, "two reps, a marketer and a supervisor");
    assert!(jkt.windows(2).all(|w| w[0].name <= w[1].name));
    assert_eq!(repo.list_users(None).await.unwrap().len(), 8);
}
