//! Hostile uploads against the real server binary (SQLite + files): each kind of input sent by
//! `--concurrency` phones at once (8 unless given), `--rounds` times (3), with the server's
//! resident memory sampled every 20 ms. Prints per input: its size, what the server answered
//! (status and code, counted), the slowest answer, and the server's peak RSS while it was sent —
//! the bound is 300 MB under any mix — then the peak over a mixed round of all of them.
//!
//! `cargo bench --bench hostile -- [--concurrency 8] [--rounds 3]`. `HOSTILE_SERVER_BIN=path`
//! runs another build of the server (a before/after run).

#[path = "../tests/api/visit_json.rs"]
mod visit_json;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldproof::config::{Settings, StorageSettings};
use serde_json::Value;
use uuid::Uuid;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kib| kib / 1024.0)
}

const ADAM7: [(u32, u32, u32, u32); 7] = [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];

/// A grey PNG of `w` × `h`, Adam7-interlaced or not, assembled by hand (IHDR, one zlib IDAT).
fn png(w: u32, h: u32, interlaced: bool) -> Vec<u8> {
    let mut info = png::Info::with_size(w, h);
    info.color_type = png::ColorType::Grayscale;
    info.bit_depth = png::BitDepth::Eight;
    info.interlaced = interlaced;
    let mut out = Vec::new();
    let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let passes: Vec<_> = if interlaced { ADAM7.to_vec() } else { vec![(0, 1, 0, 1)] };
    for (x0, dx, y0, dy) in passes {
        let row: Vec<u8> = std::iter::once(0).chain((x0..w).step_by(dx as usize).map(|x| 80 + (x % 97) as u8)).collect();
        for _ in (y0..h).step_by(dy as usize) {
            std::io::Write::write_all(&mut z, &row).unwrap();
        }
    }
    writer.write_chunk(png::chunk::IDAT, &z.finish().unwrap()).unwrap();
    writer.finish().unwrap();
    out
}

/// A PNG whose header claims `w` × `h` and whose data is a few bytes (a decompression bomb).
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut info = png::Info::with_size(w, h);
    info.color_type = png::ColorType::Rgba;
    info.bit_depth = png::BitDepth::Eight;
    let mut out = Vec::new();
    let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
    writer.write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]).unwrap();
    drop(writer);
    out
}

/// A progressive JPEG of `w` × `h` (4:2:0), noisy so it is a real decode.
fn progressive_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 12345u32;
    let rgb: Vec<u8> = (0..w as usize * h as usize * 3)
        .map(|i| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((i / 3 % w as usize) as u32 / 16 + (seed >> 27)) as u8
        })
        .collect();
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(w as usize, h as usize);
    c.set_quality(80.0);
    c.set_progressive_mode();
    let mut started = c.start_compress(Vec::new()).unwrap();
    started.write_scanlines(&rgb).unwrap();
    started.finish().unwrap()
}

/// A JPEG whose frame header declares 65535 × 65535 (a small real JPEG, its size patched).
fn jpeg_declaring_65535() -> Vec<u8> {
    let mut j = progressive_jpeg(64, 64);
    let sof = j.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
    j[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    j
}

/// A lossless WebP header declaring `w` × `h` (the format's largest is 16 383 a side).
fn webp_declaring(w: u32, h: u32) -> Vec<u8> {
    let bits = (w - 1) | ((h - 1) << 14);
    let mut vp8l = vec![0x2f];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0u8; 64]);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((4 + 8 + vp8l.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBPVP8L");
    out.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    out.extend_from_slice(&vp8l);
    out
}

/// A PNG carrying a 24 MB XMP packet.
fn png_with_xmp(mb: usize) -> Vec<u8> {
    let small = png(640, 480, false);
    let mut text = b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>".to_vec();
    text.resize(mb * 1024 * 1024, b' ');
    text.extend_from_slice(b"</x:xmpmeta>");
    let mut out = small[..33].to_vec(); // signature + IHDR
    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
    let mut chunk = b"iTXt".to_vec();
    chunk.extend_from_slice(&text);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&small[33..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

struct Outcome {
    answers: BTreeMap<String, usize>,
    slowest: Duration,
    peak_rss: f64,
}

/// Sends every input at once, spread over the reps (`(token, customer)`, round robin).
async fn send_all(client: &reqwest::Client, base: &str, reps: &[(String, String)], inputs: &[(&str, Arc<Vec<u8>>)], pid: u32) -> Outcome {
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let sampling = sampling.clone();
        async move {
            let mut peak = 0f64;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(status_mib(pid, "VmRSS:"));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        }
    });
    let tasks: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, (_, bytes))| {
            let (token, customer) = reps[i % reps.len()].clone();
            let (client, base, bytes) = (client.clone(), base.to_string(), bytes.clone());
            tokio::spawn(async move {
                let visit = Uuid::new_v4();
                let body = visit_json::visit_json(&customer, "door_visit", chrono::Utc::now() - chrono::Duration::minutes(5));
                client.put(format!("{base}/v1/visits/{visit}")).bearer_auth(&token).json(&body).send().await.unwrap();
                let form = reqwest::multipart::Form::new()
                    .text("kind", "storefront")
                    .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("upload"));
                let t = Instant::now();
                let answer = match client
                    .put(format!("{base}/v1/visits/{visit}/photos/{}", Uuid::new_v4()))
                    .bearer_auth(&token)
                    .multipart(form)
                    .send()
                    .await
                {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        format!("{status} {}", body["code"].as_str().unwrap_or(""))
                    }
                    Err(e) => format!("error {e}"),
                };
                (answer.trim().to_string(), t.elapsed())
            })
        })
        .collect();
    let mut answers = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    for t in tasks {
        let (answer, took) = t.await.unwrap();
        *answers.entry(answer).or_insert(0) += 1;
        slowest = slowest.max(took);
    }
    sampling.store(false, Ordering::Relaxed);
    Outcome { answers, slowest, peak_rss: sampler.await.unwrap() }
}

#[tokio::main]
async fn main() {
    let concurrency: usize = arg("--concurrency").and_then(|s| s.parse().ok()).unwrap_or(8);
    let rounds: usize = arg("--rounds").and_then(|s| s.parse().ok()).unwrap_or(3);
    eprintln!("making the inputs…");
    let iphone = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/iphone-6.jpg")).unwrap();
    let heic = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/iphone-11-pro.heic")).unwrap();
    let kinds: Vec<(&str, Vec<u8>)> = vec![
        ("a phone JPEG (iPhone 6, 8 MP)", iphone),
        ("a phone HEIC (iPhone 11 Pro, 12 MP)", heic),
        ("an interlaced PNG of 10 900 × 10 900", png(10_900, 10_900, true)),
        ("a plain PNG of 10 900 × 10 900", png(10_900, 10_900, false)),
        ("a progressive JPEG of 8 000 × 6 000", progressive_jpeg(8_000, 6_000)),
        ("a PNG header declaring 100 000 × 100 000", png_header_only(100_000, 100_000)),
        ("a JPEG declaring 65 535 × 65 535", jpeg_declaring_65535()),
        ("a WebP declaring 16 000 × 16 000", webp_declaring(16_000, 16_000)),
        ("a WebP declaring 10 000 × 10 000 (within the pixel cap)", webp_declaring(10_000, 10_000)),
        ("a PNG with a 24 MB XMP packet", png_with_xmp(24)),
    ];

    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}/fieldproof.db", dir.path().display());
    settings.storage = StorageSettings { url: format!("file://{}/objects", dir.path().display()), ..Default::default() };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let binary = std::env::var("HOSTILE_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_fieldproof").to_string());
    let mut server = Command::new(binary)
        .arg("serve")
        .env("FIELDPROOF__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("FIELDPROOF__DATABASE__URL", &settings.database.url)
        .env("FIELDPROOF__STORAGE__URL", &settings.storage.url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "server not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = fieldproof::startup::build_app(&settings).await.unwrap();
    let logins = fieldproof::app::demo::load(&app).await.unwrap();
    let mut reps = Vec::new();
    for rep in logins.iter().filter(|l| l.role == fieldproof::domain::role::Role::Sales) {
        let r: Value =
            client.get(format!("{base}/v1/customers?limit=1")).bearer_auth(&rep.token).send().await.unwrap().json().await.unwrap();
        if let Some(customer) = r["items"][0]["id"].as_str() {
            reps.push((rep.token.clone(), customer.to_string()));
        }
    }
    let pid = server.id();
    println!(
        "server at rest: {:.0} MiB resident; {concurrency} uploads at once, {rounds} rounds each, spread over {} reps\n",
        status_mib(pid, "VmRSS:"),
        reps.len()
    );
    println!("| input | bytes | answers | slowest answer (s) | server peak RSS (MiB) |");
    println!("|---|---|---|---|---|");
    let mut mixed = Vec::new();
    for (name, bytes) in &kinds {
        let bytes = Arc::new(bytes.clone());
        mixed.push((*name, bytes.clone()));
        let mut answers = BTreeMap::new();
        let (mut slowest, mut peak) = (Duration::ZERO, 0f64);
        for _ in 0..rounds {
            let inputs: Vec<_> = (0..concurrency).map(|_| (*name, bytes.clone())).collect();
            let o = send_all(&client, &base, &reps, &inputs, pid).await;
            for (k, v) in o.answers {
                *answers.entry(k).or_insert(0) += v;
            }
            slowest = slowest.max(o.slowest);
            peak = peak.max(o.peak_rss);
        }
        let answers: Vec<String> = answers.into_iter().map(|(k, v)| format!("{v}× {k}")).collect();
        println!("| {name} | {} | {} | {:.2} | {peak:.0} |", bytes.len(), answers.join(", "), slowest.as_secs_f64());
    }
    // Everything at once, `concurrency` of each kind.
    let inputs: Vec<_> = mixed.iter().flat_map(|(n, b)| std::iter::repeat_n((*n, b.clone()), concurrency)).collect();
    let o = send_all(&client, &base, &reps, &inputs, pid).await;
    let answers: Vec<String> = o.answers.into_iter().map(|(k, v)| format!("{v}× {k}")).collect();
    println!(
        "| all of the above at once ({} uploads) | – | {} | {:.2} | {:.0} |",
        inputs.len(),
        answers.join(", "),
        o.slowest.as_secs_f64(),
        o.peak_rss
    );
    println!("\nserver peak RSS over the whole run (VmHWM): {:.0} MiB", status_mib(pid, "VmHWM:"));
    let _ = server.kill();
    let _ = server.wait();
}
