//! A visit summary's analysis: sentences, words, aspects, waybill numbers, dates, concrete data,
//! shingles and their MinHash bands, with the default policy.
#![no_main]

use fieldproof::domain::rules::summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let policy = fieldproof::domain::policy::Policy::default();
    let s = &policy.summary;
    let _ = summary::sentences(&text);
    let words = summary::words(&text);
    let _ = summary::substantive_sentences(s, &text);
    let _ = summary::aspects(s, &text);
    let _ = summary::lexicon_hit(&s.date_words, &words);
    let _ = summary::waybill(&text);
    let _ = summary::date_mention(s, &text);
    let _ = summary::concrete_data(s, &text);
    let shingles = summary::shingles(&text);
    let j = summary::jaccard(&shingles, &shingles);
    assert!(shingles.is_empty() || (j - 1.0).abs() < 1e-9);
    let _ = summary::band_keys(&shingles);
});
