//! The repository as a whole (backend, migrations, ping) and the directory: branches, users
//! and their tokens.

use fieldproof::db::{Backend, Repo};

use fieldproof::domain::directory::{Branch, User};
use fieldproof::domain::ids::{BranchId, UserId};
use fieldproof::domain::role::Role;
use uuid::Uuid;

use super::t0;
use crate::backend_tests;
use crate::helpers::{Db, TestApp};

backend_tests!(the_directory_keeps_branches_users_and_tokens);

async fn the_directory_keeps_branches_users_and_tokens(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();

    // The repository answers, names the database it talks to, and its migrations re-run
    // without harm to what is stored.
    repo.ping().await.unwrap();
    let expected = match app.db {
        Db::Sqlite => Backend::Sqlite,
        Db::Postgres => Backend::Postgres,
    };
    assert_eq!(repo.backend(), expected);
    repo.migrate().await.expect("migrations are re-runnable");
    assert!(repo.get_branch(BranchId(app.jkt)).await.unwrap().is_some(), "the seeded branch survives a re-run");

    // Branches round-trip, by id and by code; unknown ones are `None`.
    let branch = repo.get_branch(BranchId(app.jkt)).await.unwrap().unwrap();
    assert_eq!((branch.code.as_str(), branch.time_zone), ("JKT", chrono_tz::Asia::Jakarta));
    assert_eq!(branch.working_days, fieldproof::domain::directory::MONDAY_TO_FRIDAY);
    assert_eq!(repo.branch_by_code("JAP").await.unwrap().unwrap().id.0, app.jap);
    assert!(repo.get_branch(BranchId(Uuid::new_v4())).await.unwrap().is_none());
    assert!(repo.branch_by_code("jkt").await.unwrap().is_none(), "codes match exactly");

    // Upserting a branch by id updates it in place; a new id adds one. The list is by code.
    let mut saturdays = Branch { name: "Jakarta Raya".into(), working_days: [true, true, true, true, true, true, false], ..branch.clone() };
    repo.upsert_branch(&saturdays).await.unwrap();
    assert_eq!(repo.get_branch(branch.id).await.unwrap().unwrap(), saturdays);
    let bandung = Branch {
        id: BranchId(Uuid::new_v4()),
        code: "BDG".into(),
        name: "Bandung".into(),
        ..repo.get_branch(branch.id).await.unwrap().unwrap()
    };
    repo.upsert_branch(&bandung).await.unwrap();
    let codes: Vec<String> = repo.list_branches().await.unwrap().into_iter().map(|b| b.code).collect();
    assert_eq!(codes, ["BDG", "JAP", "JKT"]);
    saturdays.time_zone = chrono_tz::Asia::Makassar;
    repo.upsert_branch(&saturdays).await.unwrap();
    assert_eq!(repo.branch_by_code("JKT").await.unwrap().unwrap().time_zone, chrono_tz::Asia::Makassar);

    // Users round-trip; upserting by id changes name, role and branch.
    let rep = repo.get_user(UserId(app.rep.id)).await.unwrap().unwrap();
    assert_eq!((rep.role, rep.branch_id), (Role::Sales, Some(BranchId(app.jkt))));
    assert!(repo.get_user(UserId(Uuid::new_v4())).await.unwrap().is_none());
    let mut newcomer =
        User { id: UserId(Uuid::new_v4()), name: "Budi Santoso".into(), role: Role::Sales, branch_id: Some(BranchId(app.jap)) };
    repo.upsert_user(&newcomer, t0()).await.unwrap();
    assert_eq!(repo.get_user(newcomer.id).await.unwrap().unwrap(), newcomer);
    newcomer.role = Role::Hq;
    newcomer.branch_id = None;
    repo.upsert_user(&newcomer, t0()).await.unwrap();
    assert_eq!(repo.get_user(newcomer.id).await.unwrap().unwrap(), newcomer, "the same id is updated, not added");

    // Batched reads leave out the ids not found.
    let users = repo.users_by_id(&[UserId(app.rep.id), UserId(app.rep2.id), UserId::new_random()]).await.unwrap();
    assert_eq!(users.len(), 2);
    let mut ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    ids.sort();
    let mut expected = vec![UserId(app.rep.id), UserId(app.rep2.id)];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(repo.users_by_id(&[]).await.unwrap().is_empty());

    // By name: exactly this name, every user who has it.
    assert_eq!(repo.users_by_name(&rep.name).await.unwrap(), vec![rep.clone()]);
    assert!(repo.users_by_name(&rep.name.to_uppercase()).await.unwrap().is_empty(), "names match exactly");
    assert!(repo.users_by_name(&rep.name[..4]).await.unwrap().is_empty(), "not by prefix");
    let namesake = User { id: UserId(Uuid::new_v4()), name: "Budi Santoso".into(), role: Role::Sales, branch_id: Some(BranchId(app.jkt)) };
    repo.upsert_user(&namesake, t0()).await.unwrap();
    let mut budis: Vec<UserId> = repo.users_by_name("Budi Santoso").await.unwrap().into_iter().map(|u| u.id).collect();
    budis.sort();
    let mut expected = vec![newcomer.id, namesake.id];
    expected.sort();
    assert_eq!(budis, expected);

    // Tokens resolve to their user; adding a hash again is a no-op, even for another user.
    repo.add_token(rep.id, "hash-1", "t", t0()).await.unwrap();
    repo.add_token(rep.id, "hash-1", "t", t0()).await.expect("adding a token twice is a no-op");
    assert_eq!(repo.user_by_token("hash-1").await.unwrap().unwrap().id, rep.id);
    repo.add_token(UserId(app.rep2.id), "hash-1", "stolen", t0()).await.expect("a taken hash is a no-op");
    assert_eq!(repo.user_by_token("hash-1").await.unwrap().unwrap().id, rep.id, "the hash keeps its first user");
    assert!(repo.user_by_token("nope").await.unwrap().is_none());
    // A user may hold several tokens.
    repo.add_token(rep.id, "hash-2", "phone", t0()).await.unwrap();
    assert_eq!(repo.user_by_token("hash-2").await.unwrap().unwrap(), rep);
}
