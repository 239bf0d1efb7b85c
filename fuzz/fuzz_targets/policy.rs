//! The policy file (TOML): every text ends in a validated policy or a list of problems, each
//! naming what is wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(problems) = fieldproof::domain::policy::Policy::from_toml(&text) {
        assert!(!problems.is_empty() && problems.iter().all(|p| !p.is_empty()));
    }
});
