//! Near-duplicate lookup at scale: N stored perceptual hashes (default 10 million), then
//! `Repo::hash_candidates` (the multi-index query the upload path runs) plus the Hamming check,
//! timed for probes that match nothing and probes 8 bits away from a stored hash.
//!
//! `cargo bench --bench reuse_lookup -- [N]` runs SQLite (a temporary file); with
//! `DATABASE_URL=postgres://…` it runs PostgreSQL too (a fresh database). Hashes are uniform
//! random, which is kinder than real photos (whose flat regions make some chunk values common):
//! the candidate counts printed say how many rows each lookup touched.

use std::time::{Duration, Instant};

use chrono::Utc;
use fieldproof::db::{ahash_chunks, hash_chunks, Repo};
use fieldproof::domain::ids::VisitId;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::rules::near_match;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor, QueryBuilder};
use uuid::Uuid;

const BATCH: usize = 1000;

fn random_hash(rng: &mut StdRng) -> ([u8; 32], u64) {
    let mut d = [0u8; 32];
    rng.fill(&mut d);
    (d, rng.gen())
}

/// Inserts `n` random hashes in batches on one connection; keeps one per batch to probe near.
macro_rules! fill {
    ($db:ty, $conn:expr, $n:expr) => {{
        let mut rng = StdRng::seed_from_u64(1);
        let mut kept = Vec::new();
        let received = Utc::now() - chrono::Duration::days(1);
        let started = Instant::now();
        let mut done = 0;
        while done < $n {
            let rows: Vec<([u8; 32], u64)> = (0..BATCH.min($n - done)).map(|_| random_hash(&mut rng)).collect();
            if kept.len() < 1000 {
                kept.push(rows[0]);
            }
            let mut qb = QueryBuilder::<$db>::new(
                "INSERT INTO photo_hashes (photo_id, visit_id, received_at, dhash, ahash, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, a0, a1, a2, a3) ",
            );
            qb.push_values(rows.iter(), |mut b, (d, a)| {
                b.push_bind(Uuid::new_v4()).push_bind(Uuid::new_v4()).push_bind(received).push_bind(d.to_vec()).push_bind(*a as i64);
                for c in hash_chunks(d).into_iter().chain(ahash_chunks(*a)) {
                    b.push_bind(c);
                }
            });
            qb.build().execute(&mut $conn).await.expect("insert batch");
            done += rows.len();
            if done % 1_000_000 == 0 {
                eprintln!("  {done} rows, {:.0} s", started.elapsed().as_secs_f64());
            }
        }
        kept
    }};
}

async fn measure(name: &str, repo: &dyn Repo, kept: &[([u8; 32], u64)]) {
    let policy = Policy::default();
    let mut rng = StdRng::seed_from_u64(7);
    for (label, near) in [("no match", false), ("8 bits from a stored hash", true)] {
        let mut times = Vec::new();
        let (mut candidates, mut matches) = (0usize, 0usize);
        for i in 0..1000 {
            let probe = if near {
                let (mut d, a) = kept[i % kept.len()];
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
        println!(
            "| {name} | {label} | {} | {} | {:.1} | {matches}/1000 |",
            us(pct(0.5)),
            us(pct(0.99)),
            candidates as f64 / 1000.0
        );
    }
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    println!("Stored hashes: {n}\n\n| database | probe | p50 (µs) | p99 (µs) | candidates per lookup | matches found |\n|---|---|---|---|---|---|");

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let repo = fieldproof::db::connect(&url, 4).await.unwrap();
    repo.migrate().await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    conn.execute("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;").await.unwrap();
    eprintln!("filling SQLite…");
    conn.execute("BEGIN").await.unwrap();
    let kept = fill!(sqlx::Sqlite, conn, n);
    conn.execute("COMMIT").await.unwrap();
    conn.execute("ANALYZE").await.unwrap();
    measure("SQLite", repo.as_ref(), &kept).await;

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
        let kept = fill!(sqlx::Postgres, conn, n);
        conn.execute("ANALYZE photo_hashes").await.unwrap();
        measure("PostgreSQL", repo.as_ref(), &kept).await;
        drop(conn);
        drop(repo);
        let _ = admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await;
    }
}
