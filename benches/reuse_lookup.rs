//! Near-duplicate lookup at scale: N stored perceptual hashes (default 10 million), then
//! `Repo::hash_candidates` (the 330-key probe the upload path runs) plus the Hamming check,
//! timed for probes that match nothing and probes 8 bits away from a stored hash. The rows are
//! generated inside the database (a client-side insert of 10M × 11 rows would take an hour).
//!
//! `cargo bench --bench reuse_lookup -- [N]` runs SQLite (a temporary file); with
//! `DATABASE_URL=postgres://…` it runs PostgreSQL too (a fresh database). Hashes are uniform
//! random, which is kinder than real photos (whose flat regions make some chunk values common):
//! the candidate counts printed say how many rows each lookup touched.

use std::time::{Duration, Instant};

use chrono::Utc;
use fieldproof::db::Repo;
use fieldproof::domain::ids::VisitId;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::rules::near_match;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor};
use uuid::Uuid;

const KEPT: i64 = 2000;

fn random_hash(rng: &mut StdRng) -> ([u8; 32], u64) {
    let mut d = [0u8; 32];
    rng.fill(&mut d);
    (d, rng.gen())
}

/// SQLite: random chunks generated in the database, the dHash blob built from them, and each
/// slot's keys inserted in key order (appends, not random b-tree inserts).
async fn fill_sqlite(conn: &mut sqlx::SqliteConnection, n: usize) {
    let chunks: Vec<String> = (0..8).map(|j| format!("random() & 4294967295 AS c{j}")).collect();
    conn.execute(
        format!(
            "CREATE TEMP TABLE gen AS WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) \
             SELECT randomblob(16) AS pid, {}, random() AS ahash FROM seq",
            chunks.join(", ")
        )
        .as_str(),
    )
    .await
    .unwrap();
    let received = (Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    conn.execute(
        format!(
            "INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash) SELECT pid, randomblob(16), '{received}', \
             unhex(printf('%08X%08X%08X%08X%08X%08X%08X%08X', c0, c1, c2, c3, c4, c5, c6, c7)), ahash FROM gen"
        )
        .as_str(),
    )
    .await
    .unwrap();
    for slot in 0..10 {
        let chunk = match slot {
            0..=7 => format!("c{slot}"),
            8 => "(ahash & 4294967295)".into(),
            _ => "((ahash >> 32) & 4294967295)".into(),
        };
        conn.execute(
            format!("INSERT INTO photo_hash_keys (key, photo_id) SELECT ({slot} << 32) | {chunk}, pid FROM gen ORDER BY 1, 2").as_str(),
        )
        .await
        .unwrap();
    }
    conn.execute("DROP TABLE gen").await.unwrap();
}

/// PostgreSQL: rows generated in the database, keys derived from the stored bytes with
/// `get_byte`, the key table's primary key built after the load.
async fn fill_postgres(conn: &mut sqlx::PgConnection, n: usize) {
    let received = Utc::now() - chrono::Duration::days(1);
    sqlx::query(
        "INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash) SELECT gen_random_uuid(), gen_random_uuid(), $1, \
         decode(md5(random()::text) || md5(random()::text), 'hex'), (random() * 18446744073709551615.0 - 9223372036854775808.0)::numeric::bigint \
         FROM generate_series(1, $2)",
    )
    .bind(received)
    .bind(n as i64)
    .execute(&mut *conn)
    .await
    .unwrap();
    conn.execute("ALTER TABLE photo_hash_keys DROP CONSTRAINT photo_hash_keys_pkey").await.unwrap();
    conn.execute(
        "INSERT INTO photo_hash_keys (key, photo_id) SELECT (s::bigint << 32) | CASE \
           WHEN s < 8 THEN (get_byte(dhash, 4 * s)::bigint << 24) | (get_byte(dhash, 4 * s + 1)::bigint << 16) \
                         | (get_byte(dhash, 4 * s + 2)::bigint << 8) | get_byte(dhash, 4 * s + 3)::bigint \
           WHEN s = 8 THEN ahash & 4294967295 ELSE (ahash >> 32) & 4294967295 END, photo_id \
         FROM photo_hashes CROSS JOIN generate_series(0, 9) AS s",
    )
    .await
    .unwrap();
    conn.execute("ALTER TABLE photo_hash_keys ADD CONSTRAINT photo_hash_keys_pkey PRIMARY KEY (key, photo_id)").await.unwrap();
}

/// Stored hashes to probe near: the first `KEPT` rows.
macro_rules! kept {
    ($conn:expr) => {{
        let rows: Vec<(Vec<u8>, i64)> =
            sqlx::query_as(&format!("SELECT dhash, ahash FROM photo_hashes LIMIT {KEPT}")).fetch_all(&mut $conn).await.unwrap();
        rows.into_iter().map(|(d, a)| (<[u8; 32]>::try_from(d).unwrap(), a as u64)).collect::<Vec<_>>()
    }};
}

async fn measure(name: &str, repo: &dyn Repo, kept: &[([u8; 32], u64)]) {
    let policy = Policy::default();
    let mut rng = StdRng::seed_from_u64(7);
    // First the lookups right after the fill, then the same kinds again after 5 000 more have
    // brought the index's pages into the caches — the state of a server that has been running.
    let mut passes = vec![("no match", false, "first"), ("8 bits from a stored hash", true, "first")];
    passes.extend([("no match", false, "steady"), ("8 bits from a stored hash", true, "steady")]);
    for (i, (label, near, phase)) in passes.into_iter().enumerate() {
        if i == 2 {
            for _ in 0..5000 {
                let probe = random_hash(&mut rng);
                repo.hash_candidates(&probe.0, probe.1, Utc::now(), VisitId(Uuid::new_v4())).await.expect("lookup");
            }
        }
        let label = format!("{label} ({phase})");
        let mut times = Vec::new();
        let (mut candidates, mut matches) = (0usize, 0usize);
        for i in 0..1000 {
            let probe = if near {
                let (mut d, a) = kept[(i + if phase == "steady" { 1000 } else { 0 }) % kept.len()];
                for _ in 0..8 {
                    let bit = rng.gen_range(0..256);
                    d[bit / 8] ^= 1 << (bit % 8);
                }
                (d, a)
            } else {
                random_hash(&mut rng)
            };
            let t = Instant::now();
            let found = repo.hash_candidates(&probe.0, probe.1, Utc::now(), VisitId(Uuid::new_v4())).await.expect("lookup");
            matches += found.iter().filter(|c| near_match(&policy, (&probe.0, probe.1), (&c.dhash, c.ahash)).is_some()).count();
            times.push(t.elapsed());
            candidates += found.len();
        }
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!("| {name} | {label} | {} | {} | {:.1} | {matches}/1000 |", us(pct(0.5)), us(pct(0.99)), candidates as f64 / 1000.0);
    }
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    println!("Stored hashes: {n}\n\n| database | probe | p50 (µs) | p99 (µs) | candidates per lookup | matches found |\n|---|---|---|---|---|---|");

    // `--postgres-only` skips the SQLite half (e.g. to re-measure PostgreSQL with other settings).
    if !std::env::args().any(|a| a == "--postgres-only") {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let repo = fieldproof::db::connect(&url, 4).await.unwrap();
        repo.migrate().await.unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        conn.execute("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -4000000; PRAGMA temp_store = FILE;").await.unwrap();
        eprintln!("filling SQLite…");
        let started = Instant::now();
        fill_sqlite(&mut conn, n).await;
        conn.execute("ANALYZE").await.unwrap();
        // Fold the fill's write-ahead log into the database file, as SQLite's automatic
        // checkpoints do on a live server; otherwise every read first searches a multi-GB WAL.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        eprintln!("  filled in {:.0} s", started.elapsed().as_secs_f64());
        let kept = kept!(conn);
        drop(conn);
        measure("SQLite", repo.as_ref(), &kept).await;
    }

    if let Some(base) = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
        let name = format!("fp_bench_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        let repo = fieldproof::db::connect(&url, 4).await.unwrap();
        repo.migrate().await.unwrap();
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        conn.execute("SET session_replication_role = replica; SET synchronous_commit = off;").await.unwrap();
        eprintln!("filling PostgreSQL…");
        let started = Instant::now();
        fill_postgres(&mut conn, n).await;
        conn.execute("VACUUM ANALYZE photo_hashes").await.unwrap();
        conn.execute("VACUUM ANALYZE photo_hash_keys").await.unwrap();
        eprintln!("  filled in {:.0} s", started.elapsed().as_secs_f64());
        let kept = kept!(conn);
        measure("PostgreSQL", repo.as_ref(), &kept).await;
        drop(conn);
        drop(repo);
        let _ = admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await;
    }
}
