//! The console's thumbnails: for every fixture photo, what making one costs (`media::thumbnail`,
//! in process, median of N runs) beside the whole photo check of the same file
//! (`media::inspect`), and what it weighs, side by side with ImageMagick making the same
//! thumbnail (`convert FILE -auto-orient -thumbnail 480x480 -strip -quality 78 jpg:-`, net of a
//! process start, measured as `true`; "-" where `convert` is missing). `cargo bench --bench
//! thumbnail` prints a Markdown table; results in BENCHMARKS.md.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldproof::media::{inspect, thumbnail::thumbnail, Limits};

const RUNS: usize = 15;

fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut xs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    xs.sort();
    xs[xs.len() / 2]
}

fn process(program: &str, args: &[&str]) -> Option<(Duration, usize)> {
    let run = || Command::new(program).args(args).stderr(Stdio::null()).output().ok().filter(|o| o.status.success());
    let bytes = run()?.stdout.len();
    Some((
        median(|| {
            run();
        }),
        bytes,
    ))
}

fn main() {
    let start = process("true", &[]).map_or(Duration::ZERO, |(d, _)| d);
    let limits = Limits { max_bytes: 64 << 20, max_side_px: 20_000, max_pixels: 120_000_000, faces_min_px: None };
    let mut files: Vec<_> = std::fs::read_dir("fixtures/photos")
        .expect("fixtures/photos")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "heic")))
        .collect();
    files.sort();
    println!("| photo | size | pixels | thumbnail | thumb bytes | make (ms) | check (ms) | make ÷ check | ImageMagick (ms) | its bytes |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(inspection) = inspect(&bytes, None, &limits) else { continue };
        let thumb = thumbnail(&bytes, limits.max_pixels).expect("a thumbnail");
        let size = imagesize::blob_size(&thumb).unwrap();
        let make = median(|| {
            std::hint::black_box(thumbnail(&bytes, limits.max_pixels).unwrap());
        });
        let check = median(|| {
            std::hint::black_box(inspect(&bytes, None, &limits).unwrap());
        });
        let file = path.to_string_lossy().to_string();
        let magick = process("convert", &[&file, "-auto-orient", "-thumbnail", "480x480", "-strip", "-quality", "78", "jpg:-"]);
        let (magick_ms, magick_bytes) = match magick {
            Some((d, b)) => (format!("{:.1}", d.saturating_sub(start).as_secs_f64() * 1000.0), b.to_string()),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} kB | {}×{} | {}×{} | {} | {:.1} | {:.1} | {:.2} | {magick_ms} | {magick_bytes} |",
            path.file_name().unwrap().to_string_lossy(),
            bytes.len() / 1024,
            inspection.width,
            inspection.height,
            size.width,
            size.height,
            thumb.len(),
            make.as_secs_f64() * 1000.0,
            check.as_secs_f64() * 1000.0,
            make.as_secs_f64() / check.as_secs_f64()
        );
    }
}
