//! Upgrades keep what is stored: a database at the release before a migration that rebuilds a
//! table gets the migration with rows in it, on both backends.

use std::borrow::Cow;

use sqlx::migrate::Migrator;
use sqlx::Connection;

/// Migrations up to `version`, from the directory the server embeds.
async fn up_to(dir: &str, version: i64) -> Migrator {
    let all = Migrator::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).await.unwrap();
    let kept: Vec<_> = all.migrations.iter().filter(|m| m.version <= version).cloned().collect();
    Migrator { migrations: Cow::Owned(kept), ..Migrator::DEFAULT }
}

const USERS: &str = "INSERT INTO users (id, name, role, branch_id, created_at, login, locale) VALUES \
                     ($1, 'Rina', 'sales', $2, '2026-11-01T00:00:00Z', 'rina', 'en')";

/// Migration 0018 rebuilds SQLite's users table (a new role in its CHECK) with rows that other
/// tables refer to: every user, token and customer survives, and the foreign keys still hold.
#[tokio::test]
async fn the_users_rebuild_keeps_users_and_what_refers_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("fp.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut conn).await.unwrap();
    up_to("migrations/sqlite", 17).await.run(&mut conn).await.unwrap();
    let (branch, user) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    sqlx::query("INSERT INTO branches (id, code, name, time_zone, created_at) VALUES ($1, 'JKT', 'Jakarta', 'Asia/Jakarta', '2026-11-01T00:00:00Z')")
        .bind(branch)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(USERS).bind(user).bind(branch).execute(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ('h', $1, 't', '2026-11-01T00:00:00Z')")
        .bind(user)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO customers (id, code, name, customer_type, branch_id, assigned_rep_id, created_on, class, created_at, updated_at) \
         VALUES ($1, 'C1', 'Toko', 'retail', $2, $3, '2026-11-01', 'new', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(branch)
    .bind(user)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    // The server's own migrate, as an upgrade runs it.
    let repo = fieldproof::db::connect(&url, 2).await.unwrap();
    repo.migrate().await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (name, role, login, locale): (String, String, String, String) =
        sqlx::query_as("SELECT name, role, login, locale FROM users WHERE id = $1").bind(user).fetch_one(&mut conn).await.unwrap();
    assert_eq!((name.as_str(), role.as_str(), login.as_str(), locale.as_str()), ("Rina", "sales", "rina", "en"));
    let tokens: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1").bind(user).fetch_one(&mut conn).await.unwrap();
    assert_eq!(tokens, 1);
    let (ownership, dp): (String, Option<String>) =
        sqlx::query_as("SELECT ownership, dp FROM customers").fetch_one(&mut conn).await.unwrap();
    assert_eq!((ownership.as_str(), dp), ("hq", None));
    let broken: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check").fetch_all(&mut conn).await.unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    // The new role is accepted, an unknown one still refused.
    sqlx::query("UPDATE users SET role = 'supervisor' WHERE id = $1").bind(user).execute(&mut conn).await.unwrap();
    assert!(sqlx::query("UPDATE users SET role = 'root' WHERE id = $1").bind(user).execute(&mut conn).await.is_err());
}

/// The same upgrade on PostgreSQL (its CHECK is replaced in place).
#[tokio::test]
async fn the_role_check_is_replaced_on_postgres() {
    let Some(base) = crate::helpers::postgres_url() else { return };
    let url = crate::helpers::new_postgres_database(&base).await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    up_to("migrations/postgres", 17).await.run(&mut conn).await.unwrap();
    let (branch, user) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    sqlx::query("INSERT INTO branches (id, code, name, time_zone, created_at) VALUES ($1, 'JKT', 'Jakarta', 'Asia/Jakarta', now())")
        .bind(branch)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&USERS.replace("'2026-11-01T00:00:00Z'", "now()")).bind(user).bind(branch).execute(&mut conn).await.unwrap();
    drop(conn);
    let repo = fieldproof::db::connect(&url, 2).await.unwrap();
    repo.migrate().await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE users SET role = 'supervisor' WHERE id = $1").bind(user).execute(&mut conn).await.unwrap();
    assert!(sqlx::query("UPDATE users SET role = 'root' WHERE id = $1").bind(user).execute(&mut conn).await.is_err());
}
