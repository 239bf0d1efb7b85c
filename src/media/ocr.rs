//! OCR of screenshots with Tesseract (Debian's `tesseract-ocr`, with the `ind` and `eng`
//! models), run as a process: a bounded grayscale image in on stdin, TSV (words with their boxes
//! and confidences) out on stdout, killed when it overruns its time. A process rather than a
//! binding: no C++ library linked into the server, a crash or a hang of the engine costs one
//! screenshot's check and nothing else, and a server without it still starts (the screenshot
//! checks then report that they did not run).
//!
//! The image is prepared so that Tesseract sees dark text on white whatever the theme: each
//! pixel's distance from its neighbourhood's mean (a chat bubble's colour) is what is drawn, so
//! white-on-green bubbles, dark mode and the coloured header all read like paper.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::chat::Word;
use super::pixels::Luma;

/// A working Tesseract.
#[derive(Debug, Clone)]
pub struct Tesseract {
    pub program: String,
    pub languages: String,
    pub timeout: Duration,
    /// `tesseract 5.3.0`, as the program reports itself.
    pub version: String,
}

/// Why a screenshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrError {
    TimedOut(Duration),
    Failed(String),
}

impl std::fmt::Display for OcrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OcrError::TimedOut(d) => write!(f, "OCR took longer than {} ms", d.as_millis()),
            OcrError::Failed(why) => write!(f, "OCR failed: {why}"),
        }
    }
}

/// Screenshots are read at most this wide (a phone's 1080 px is read at 1080; a tablet's or a
/// desktop's is reduced): bounds the engine's time and memory.
pub const MAX_OCR_WIDTH: u32 = 1440;

impl Tesseract {
    /// Finds the program and checks that it has every language asked for; `Err` says what is
    /// missing (the server starts anyway and reports the OCR checks as not run).
    pub fn detect(program: &str, languages: &str, timeout: Duration) -> Result<Tesseract, String> {
        let out = Command::new(program).arg("--version").stdin(Stdio::null()).output().map_err(|e| format!("{program}: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        let version = text.lines().next().unwrap_or("tesseract").trim().to_string();
        let langs = Command::new(program).arg("--list-langs").stdin(Stdio::null()).output().map_err(|e| format!("{program}: {e}"))?;
        let listed = String::from_utf8_lossy(&langs.stdout).to_string() + &String::from_utf8_lossy(&langs.stderr);
        let have: Vec<&str> = listed.lines().map(str::trim).collect();
        let missing: Vec<&str> = languages.split('+').filter(|l| !have.contains(l)).collect();
        if !missing.is_empty() {
            return Err(format!("{program} lacks the language model(s) {}", missing.join(", ")));
        }
        Ok(Tesseract { program: program.to_string(), languages: languages.to_string(), timeout, version })
    }

    /// The words of a full-resolution grayscale screenshot.
    pub fn read(&self, luma: &Luma) -> Result<Vec<Word>, OcrError> {
        let prepared = prepare(luma);
        let mut pgm = format!("P5\n{} {}\n255\n", prepared.width, prepared.height).into_bytes();
        pgm.extend_from_slice(&prepared.pixels);
        let started = Instant::now();
        let mut child = Command::new(&self.program)
            .args(["stdin", "stdout", "-l", &self.languages, "--psm", "3", "-c", "tessedit_do_invert=0", "tsv"])
            // One thread: the server already runs one check per core.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| OcrError::Failed(format!("{}: {e}", self.program)))?;
        let mut stdin = child.stdin.take().ok_or_else(|| OcrError::Failed("no stdin".into()))?;
        let writer = std::thread::spawn(move || stdin.write_all(&pgm));
        let mut stdout = child.stdout.take().ok_or_else(|| OcrError::Failed("no stdout".into()))?;
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            // TSV of a phone screen is a few kB; 4 MB is far beyond any real page.
            let _ = stdout.by_ref().take(4 << 20).read_to_end(&mut out);
            out
        });
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    let _ = writer.join();
                    let out = reader.join().unwrap_or_default();
                    if !status.success() {
                        return Err(OcrError::Failed(format!("exit status {status}")));
                    }
                    let words = parse_tsv(&String::from_utf8_lossy(&out));
                    // Boxes back to the original's pixels.
                    let scale = f64::from(luma.width) / f64::from(prepared.width);
                    return Ok(words.into_iter().map(|w| w.scaled(scale)).collect());
                }
                Ok(None) if started.elapsed() > self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(OcrError::TimedOut(self.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(OcrError::Failed(e.to_string())),
            }
        }
    }
}

/// Dark text on white, whatever the theme: each pixel is drawn by its distance from its
/// background, and the background is a flat colour — a bubble's, the header bar's, the chat
/// wallpaper's — found as the most frequent grey of each 48 × 48 block; a pixel takes, of its
/// own and its eight neighbouring blocks' colours, the one nearest its 9 × 9 surroundings (so
/// a bubble's edge falls on its own colour, and a letter on the colour around it). Text is the
/// minority of any block and of its surroundings, so it keeps its distance and comes out dark;
/// every flat area comes out white, with no halo. Wider than [`MAX_OCR_WIDTH`] is
/// reduced first.
pub fn prepare(luma: &Luma) -> Luma {
    let src = if luma.width > MAX_OCR_WIDTH {
        let long = u64::from(luma.width.max(luma.height)) * u64::from(MAX_OCR_WIDTH) / u64::from(luma.width);
        super::pixels::reduce_to(luma, u32::try_from(long).unwrap_or(MAX_OCR_WIDTH))
    } else {
        luma.clone()
    };
    const B: usize = 48;
    let (w, h) = (src.width as usize, src.height as usize);
    let (bw, bh) = (w.div_ceil(B), h.div_ceil(B));
    // The most frequent grey of each block (in steps of 4, so anti-aliasing does not split it).
    let mut modes = vec![0u8; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut hist = [0u32; 64];
            for y in by * B..((by + 1) * B).min(h) {
                for x in bx * B..((bx + 1) * B).min(w) {
                    hist[usize::from(src.pixels[y * w + x] >> 2)] += 1;
                }
            }
            let bin = hist.iter().enumerate().max_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
            modes[by * bw + bx] = (bin as u8) * 4 + 2;
        }
    }
    // The 9 × 9 mean around each pixel picks which neighbouring block's colour is its
    // background: near a region's edge a letter's own colour can be a neighbour's (the
    // light theme's grey chip text is close to the teal header's grey), its surroundings not.
    let mut integral = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += u32::from(src.pixels[y * w + x]);
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    const R: usize = 4;
    let mut out = vec![255u8; w * h];
    for y in 0..h {
        let by = y / B;
        let (y0, y1) = (y.saturating_sub(R), (y + R + 1).min(h));
        for x in 0..w {
            let bx = x / B;
            let (x0, x1) = (x.saturating_sub(R), (x + R + 1).min(w));
            let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0] - integral[y0 * (w + 1) + x1] - integral[y1 * (w + 1) + x0];
            let mean = (sum / ((x1 - x0) * (y1 - y0)) as u32) as i32;
            let mut background = i32::from(modes[by * bw + bx]);
            for ny in by.saturating_sub(1)..=(by + 1).min(bh - 1) {
                for nx in bx.saturating_sub(1)..=(bx + 1).min(bw - 1) {
                    let m = i32::from(modes[ny * bw + nx]);
                    if (m - mean).abs() < (background - mean).abs() {
                        background = m;
                    }
                }
            }
            let distance = (i32::from(src.pixels[y * w + x]) - background).abs();
            out[y * w + x] = (255 - (distance * 3).min(255)) as u8;
        }
    }
    Luma { width: src.width, height: src.height, pixels: out }
}

/// Tesseract's TSV: level 5 rows are words (`level page block par line word left top width
/// height conf text`); empty and unconfident-garbage rows are dropped.
pub fn parse_tsv(tsv: &str) -> Vec<Word> {
    let mut words = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<i64>().ok();
        let text = cols[11].trim();
        let conf = cols[10].trim().parse::<f64>().unwrap_or(-1.0);
        if text.is_empty() || conf < 0.0 || words.len() >= 4000 {
            continue;
        }
        let (Some(block), Some(par), Some(line_no), Some(left), Some(top), Some(width), Some(height)) =
            (num(2), num(3), num(4), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        words.push(Word {
            text: text.chars().take(100).collect(),
            line: (block as u32, par as u32, line_no as u32),
            left: left.max(0) as u32,
            top: top.max(0) as u32,
            width: width.max(0) as u32,
            height: height.max(0) as u32,
            conf,
        });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_are_parsed_and_junk_rows_dropped() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t1080\t2340\t-1\t\n\
                   5\t1\t2\t1\t1\t1\t249\t112\t105\t39\t93.18\t+62\n\
                   5\t1\t2\t1\t1\t2\t378\t112\t428\t39\t90.75\t812-3456-7890\n\
                   5\t1\t3\t1\t1\t1\t213\t112\t1\t102\t95.0\t \n\
                   5\tbroken row\n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 2);
        assert_eq!((words[1].text.as_str(), words[1].left, words[1].line), ("812-3456-7890", 378, (2, 1, 1)));
    }

    #[test]
    fn prepared_text_is_dark_on_white_in_either_theme() {
        // A bright stroke on a dark bubble and a dark stroke on a bright one both come out dark.
        for (bg, ink) in [(30u8, 230u8), (230, 30)] {
            let mut pixels = vec![bg; 100 * 60];
            for y in 20..40 {
                for x in 48..52 {
                    pixels[y * 100 + x] = ink;
                }
            }
            let out = prepare(&Luma { width: 100, height: 60, pixels });
            assert!(out.pixels[30 * 100 + 50] < 80, "ink {}", out.pixels[30 * 100 + 50]);
            assert_eq!(out.pixels[5 * 100 + 5], 255, "background");
        }
    }
}
