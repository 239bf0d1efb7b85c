//! Photo-check cost, side by side with the reference tools on the same files, in one run:
//!
//! - `fieldproof`: the whole check (`app::photos::check_file`: sniff, header, EXIF, markers,
//!   one reduced-scale decode, metrics, rules), in process;
//! - `djpeg -scale 1/8 -grayscale` (libjpeg-turbo): the floor — decoding alone. It runs as a
//!   process, so the cost of starting a process (`true`) is measured too and subtracted;
//! - `exiftool -json` + ImageMagick `identify`: what a user would script, also net of start-up.
//! - metadata-only refusals (a decompression bomb, a PDF): sniff and header only.
//! - HEIC: our whole check (a full single-threaded HEVC decode by heifer) against libheif's
//!   `heif-convert` to raw Y4M (libde265, multi-threaded: its wall and its CPU time).
//!
//! `cargo bench --bench photo_check` prints a Markdown table (medians of N runs). Needs
//! `djpeg`, `exiftool`, `identify` and `heif-convert` on PATH for the reference columns; missing
//! tools print "-".

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldproof::app::photos::check_file;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::visit::PhotoKind;
use fieldproof::media::{inspect, Limits};

const RUNS: usize = 25;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time_it(mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn time_cmd(program: &str, args: &[&str]) -> Option<Duration> {
    let run = || Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().ok().filter(|s| s.success());
    run()?;
    Some(time_it(|| {
        run();
    }))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos");
    let policy = Policy::default();
    let spawn = time_cmd("true", &[]).unwrap_or_default();
    println!("Process start-up (`true`), subtracted from the tools' times: {} ms\n", ms(spawn));
    println!("| file | size | fieldproof full check (ms) | of which the 1/8 decode (ms) | djpeg -scale 1/8 -grayscale, net (ms) | ratio full check / djpeg | exiftool + identify, net (ms) | as `with_customer`, with face detection (ms) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let p = path.to_str().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let ours = time_it(|| {
            let _ = std::hint::black_box(check_file(&policy, &bytes, PhotoKind::Storefront, chrono_tz::Asia::Jakarta));
        });
        let with_faces = time_it(|| {
            let _ = std::hint::black_box(check_file(&policy, &bytes, PhotoKind::WithCustomer, chrono_tz::Asia::Jakarta));
        });
        let decode = time_it(|| {
            let _ = std::hint::black_box(fieldproof::media::pixels::decode_luma(&bytes, fieldproof::media::ImageFormat::Jpeg, 1 << 28));
        });
        let djpeg = time_cmd("djpeg", &["-scale", "1/8", "-grayscale", "-outfile", "/dev/null", p]).map(|d| d.saturating_sub(spawn));
        let scripted = match (time_cmd("exiftool", &["-json", p]), time_cmd("identify", &[p])) {
            (Some(a), Some(b)) => Some((a + b).saturating_sub(spawn * 2)),
            _ => None,
        };
        let ratio = djpeg.map(|d| format!("{:.2}×", ours.as_secs_f64() / d.as_secs_f64().max(1e-9))).unwrap_or("-".into());
        println!(
            "| {name} | {:.1} MB | {} | {} | {} | {ratio} | {} | {} |",
            bytes.len() as f64 / 1e6,
            ms(ours),
            ms(decode),
            djpeg.map(ms).unwrap_or("-".into()),
            scripted.map(ms).unwrap_or("-".into()),
            ms(with_faces),
        );
    }

    heif_table(&dir, &policy, spawn);

    let limits = Limits {
        max_bytes: policy.photo.max_bytes,
        max_side_px: policy.photo.max_side_px,
        max_pixels: policy.photo.max_pixels,
        faces_min_px: None,
    };
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(2_000_000, b' ');
    println!("\n| metadata-only refusal | median (µs) |\n|---|---|");
    for (what, bytes) in [("PNG header declaring 100 000 × 100 000 px", bomb), ("2 MB PDF", pdf)] {
        let t = time_it(|| {
            let _ = std::hint::black_box(inspect(&bytes, None, &limits));
        });
        println!("| {what} | {:.2} |", t.as_secs_f64() * 1e6);
    }
}

/// CPU time (user + system) used so far by finished child processes.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn heif_table(dir: &Path, policy: &Policy, spawn: Duration) {
    const HEIF_RUNS: usize = 7;
    println!("\n| HEIC file | size | fieldproof full check, 1 thread (ms) | of which the decode (ms) | heif-convert → y4m, wall, net (ms) | heif-convert CPU time (ms) |");
    println!("|---|---|---|---|---|---|");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".heic"))
        .collect();
    names.sort();
    let median_of = |f: &mut dyn FnMut()| {
        f();
        median(
            (0..HEIF_RUNS)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    };
    for name in names {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).unwrap();
        let ours = median_of(&mut || {
            let _ = std::hint::black_box(check_file(policy, &bytes, PhotoKind::Storefront, chrono_tz::Asia::Jakarta));
        });
        let decode = median_of(&mut || {
            let _ = std::hint::black_box(fieldproof::media::pixels::decode_luma(&bytes, fieldproof::media::ImageFormat::Heif, 1 << 28));
        });
        let out = std::env::temp_dir().join("fieldproof-bench.y4m");
        let args = [path.to_str().unwrap(), out.to_str().unwrap()];
        let reference =
            Command::new("heif-convert").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().ok().filter(|s| s.success()).map(
                |_| {
                    let cpu_before = children_cpu();
                    let wall = median_of(&mut || {
                        let _ = Command::new("heif-convert").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
                    });
                    let cpu = (children_cpu() - cpu_before) / (HEIF_RUNS as u32 + 1);
                    (wall.saturating_sub(spawn), cpu)
                },
            );
        let _ = std::fs::remove_file(&out);
        println!(
            "| {name} | {:.1} MB | {} | {} | {} | {} |",
            bytes.len() as f64 / 1e6,
            ms(ours),
            ms(decode),
            reference.map(|r| ms(r.0)).unwrap_or("-".into()),
            reference.map(|r| ms(r.1)).unwrap_or("-".into()),
        );
    }
}
