//! Object keys are ours: one function makes them, one checks them.

/// A fresh key for a photo's bytes: random, sharded two levels deep so no directory or
/// prefix grows without bound. Example: `photos/3f/a2/3fa2…-….jpeg`.
pub fn new_photo_key(extension: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("photos/{}/{}/{}.{}", &id[0..2], &id[2..4], id, extension)
}

/// Whether a key is one of ours: relative, no `..`, only `[a-z0-9./_-]`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('/')
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"./_-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ours_and_valid() {
        let key = new_photo_key("jpeg");
        assert!(is_valid_key(&key), "{key}");
        assert_ne!(key, new_photo_key("jpeg"));
        for bad in ["", "/etc/passwd", "photos/../x", "photos//x", "Photos/X", "a/./b"] {
            assert!(!is_valid_key(bad), "{bad}");
        }
    }
}
