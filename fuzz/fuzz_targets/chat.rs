//! The OCR text parser: Tesseract's TSV as the engine would print it, then the chat read from its
//! words (header, day chips, message times, sides) and every line's date, on a phone-sized screen.
#![no_main]

use fieldproof::media::{chat, ocr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tsv = String::from_utf8_lossy(data);
    let words = ocr::parse_tsv(&tsv);
    let reading = chat::read_chat(&words, 1080, 2400);
    for line in tsv.lines() {
        let _ = chat::parse_chat_date(line);
    }
    let _ = reading;
});
