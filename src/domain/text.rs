//! What text FieldProof stores: anything a person types, but no control characters. A NUL or an
//! escape sequence in a name, a summary or a CSV cell is no real visit's; it breaks exports,
//! terminals and PostgreSQL (which refuses NUL in text outright), so it is refused at the edge.

/// Whether `c` may stand in stored text: anything but a control character (C0, DEL, C1), tab,
/// line feed and carriage return excepted.
pub fn is_text_char(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// Whether every character of `s` may be stored.
pub fn is_text(s: &str) -> bool {
    s.chars().all(is_text_char)
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_not_text() {
        assert!(super::is_text("Toko Maju Jaya — Ibu Sri ✓\tline\r\nnext"));
        for bad in ["a\u{0}b", "esc\u{1b}[31m", "del\u{7f}", "c1\u{85}"] {
            assert!(!super::is_text(bad), "{bad:?}");
        }
    }
}
