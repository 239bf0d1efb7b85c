//! The near-copy lookup of `summary_templated` over a large history: N submitted summaries
//! (default 1 million: N visits and 20 N band keys), then the submit path's lookup —
//! `Repo::similar_summaries` on the new summary's 20 MinHash band keys plus the exact Jaccard
//! of the candidates — timed for summaries that copy a stored one and for new ones.
//!
//! `cargo bench --bench summary_lookup -- [N]` runs SQLite (a temporary file); with
//! `DATABASE_URL=postgres://…` PostgreSQL too (a fresh database). The history's rows are generated
//! inside the database (random band keys, as distinct summaries have), and 1000 real summaries
//! are added through the real band-key code so the copies have something to find.

use std::time::{Duration, Instant};

use fieldproof::db::Repo;
use fieldproof::domain::ids::VisitId;
use fieldproof::domain::rules::summary::{band_keys, jaccard, shingles};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor};
use uuid::Uuid;

const WORDS: [&str; 40] = [
    "toko",
    "pengiriman",
    "paket",
    "naik",
    "turun",
    "pelanggan",
    "mengeluhkan",
    "terlambat",
    "pickup",
    "kurir",
    "cabang",
    "gudang",
    "promo",
    "diskon",
    "volume",
    "hari",
    "minggu",
    "bulan",
    "depan",
    "rencana",
    "tambah",
    "armada",
    "cod",
    "pencairan",
    "cepat",
    "lambat",
    "rusak",
    "retur",
    "harga",
    "layanan",
    "owner",
    "setuju",
    "uji",
    "coba",
    "jadwal",
    "tetap",
    "marketplace",
    "order",
    "stok",
    "musim",
];

fn summary(rng: &mut StdRng) -> String {
    (0..3)
        .map(|_| {
            let n = rng.gen_range(8..14);
            let words: Vec<&str> = (0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
            format!("{} {}.", words.join(" "), rng.gen_range(1..500))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn p(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}

async fn lookup(repo: &dyn Repo, text: &str) -> (f64, usize) {
    let s = shingles(text);
    let keys = band_keys(&s);
    let candidates = repo.similar_summaries(&keys, VisitId(Uuid::new_v4()), 20).await.unwrap();
    let best = candidates.iter().map(|c| jaccard(&s, &shingles(&c.summary))).fold(0.0, f64::max);
    (best, candidates.len())
}

async fn measure(name: &str, repo: &dyn Repo, stored: &[String], n: usize) {
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..200 {
        lookup(repo, &summary(&mut rng)).await; // warm-up
    }
    for (case, copies) in [("a near-copy of a stored summary", true), ("a new summary", false)] {
        let mut times = Vec::new();
        let mut found = 0;
        let mut candidates = 0;
        for i in 0..1000 {
            let text = if copies {
                // One word changed and the numbers new: still a template.
                let s = &stored[i % stored.len()];
                s.replacen("toko", "warung", 1).replace(char::is_numeric, "7")
            } else {
                summary(&mut rng)
            };
            let started = Instant::now();
            let (best, c) = lookup(repo, &text).await;
            times.push(started.elapsed());
            found += usize::from(best >= 0.6);
            candidates += c;
        }
        times.sort();
        println!(
            "| {name} | {n} | {case} | {:.2} ms | {:.2} ms | {found}/1000 | {:.1} |",
            p(&times, 0.5),
            p(&times, 0.99),
            candidates as f64 / 1000.0
        );
    }
}

/// The history: N visits with a summary each and 20 random band keys per visit.
fn fill_sql(n: usize, sqlite: bool) -> Vec<String> {
    let blob = if sqlite { "randomblob(16)" } else { "gen_random_uuid()" };
    let rand64 = if sqlite { "random()" } else { "(random() * 9.2e18)::bigint" };
    let now = if sqlite { "'2026-11-01T00:00:00Z'" } else { "now()" };
    let seq = if sqlite {
        format!("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})")
    } else {
        format!("WITH seq(i) AS (SELECT generate_series(1, {n}))")
    };
    let content = r#"'{"customer_id":"00000000-0000-0000-0000-000000000000","task_id":null,"method":"door_visit","contact_name":null,"contact_position":null,"contact_phone":null,"visited_at":null,"result_reason":null,"details":null,"next_steps":null,"next_follow_up_at":null,"summary":"kunjungan rutin '||i||' pelanggan","answers":{},"refused":false,"refusal_reason":null}'"#;
    let cast = if sqlite { "" } else { "::jsonb" };
    vec![
        // The index is built once after the fill (as a bulk load would), not row by row.
        "DROP INDEX summary_bands_key".to_string(),
        format!("CREATE TEMP TABLE gen AS {seq} SELECT i, {blob} AS id FROM seq"),
        format!(
            "INSERT INTO visits (id, rep_id, branch_id, customer_id, method, content, content_hash, status, review_status, created_at, updated_at) \
             SELECT id, id, id, id, 'door_visit', ({content}){cast}, 'x', 'compliant', 'pending', {now}, {now} FROM gen"
        ),
        format!("INSERT INTO summary_bands (band_key, visit_id) SELECT {rand64}, g.id FROM gen g, (SELECT 1 AS b UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15 UNION ALL SELECT 16 UNION ALL SELECT 17 UNION ALL SELECT 18 UNION ALL SELECT 19 UNION ALL SELECT 20) b"),
        "CREATE INDEX summary_bands_key ON summary_bands (band_key)".to_string(),
    ]
}

/// 1000 real summaries stored through the real band keys (one transaction).
fn real_rows(rng: &mut StdRng) -> Vec<(Uuid, String, Vec<i64>)> {
    (0..1000)
        .map(|_| {
            let text = summary(rng);
            let keys = band_keys(&shingles(&text));
            (Uuid::new_v4(), text, keys)
        })
        .collect()
}

/// The SQL that stores the real summaries with their band keys.
fn real_sql(rows: &[(Uuid, String, Vec<i64>)], sqlite: bool) -> Vec<String> {
    let cast = if sqlite { "" } else { "::jsonb" };
    let now = if sqlite { "'2026-11-01T00:00:00Z'" } else { "now()" };
    let mut out = Vec::new();
    for (id, text, keys) in rows {
        let hex = id.simple().to_string();
        let idsql = if sqlite { format!("X'{hex}'") } else { format!("'{id}'::uuid") };
        let content = serde_json::json!({"customer_id": Uuid::nil(), "task_id": null, "method": "door_visit", "contact_name": null, "contact_position": null,
            "contact_phone": null, "visited_at": null, "result_reason": null, "details": null, "next_steps": null, "next_follow_up_at": null,
            "summary": text, "answers": {}, "refused": false, "refusal_reason": null})
        .to_string()
        .replace('\'', "''");
        out.push(format!(
            "INSERT INTO visits (id, rep_id, branch_id, customer_id, method, content, content_hash, status, review_status, created_at, updated_at) \
             VALUES ({idsql}, {idsql}, {idsql}, {idsql}, 'door_visit', '{content}'{cast}, 'x', 'compliant', 'pending', {now}, {now})"
        ));
        let values: Vec<String> = keys.iter().map(|k| format!("({k}, {idsql})")).collect();
        out.push(format!("INSERT INTO summary_bands (band_key, visit_id) VALUES {}", values.join(", ")));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().skip(1).find(|a| !a.starts_with("--")).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let pg_only = std::env::args().any(|a| a == "--postgres-only");
    println!("| database | summaries | probe | p50 | p99 | templated found | candidates read |");
    println!("|---|---|---|---|---|---|---|");
    let mut rng = StdRng::seed_from_u64(5);
    let real = real_rows(&mut rng);
    let stored: Vec<String> = real.iter().map(|r| r.1.clone()).collect();

    if !pg_only {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let repo = fieldproof::db::connect(&url, 4).await.unwrap();
        repo.migrate().await.unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        conn.execute("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;").await.unwrap();
        let started = Instant::now();
        for stmt in fill_sql(n, true) {
            conn.execute(stmt.as_str()).await.unwrap();
        }
        for stmt in real_sql(&real, true) {
            conn.execute(stmt.as_str()).await.unwrap();
        }
        conn.execute("ANALYZE").await.unwrap();
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        eprintln!("SQLite filled in {:.0} s", started.elapsed().as_secs_f64());
        drop(conn);
        measure("SQLite", repo.as_ref(), &stored, n).await;
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
        let started = Instant::now();
        for stmt in fill_sql(n, false) {
            conn.execute(stmt.as_str()).await.unwrap();
        }
        for stmt in real_sql(&real, false) {
            conn.execute(stmt.as_str()).await.unwrap();
        }
        conn.execute("VACUUM ANALYZE visits").await.unwrap();
        conn.execute("VACUUM ANALYZE summary_bands").await.unwrap();
        eprintln!("PostgreSQL filled in {:.0} s", started.elapsed().as_secs_f64());
        measure("PostgreSQL", repo.as_ref(), &stored, n).await;
        drop(conn);
        drop(repo);
        let _ = admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await;
    }
}
