//! Format detection from magic bytes; the client's declared type is only cross-checked.

/// The formats FieldProof accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Heif,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Heif => "heif",
        }
    }

    /// The content type we serve the bytes with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Heif => "image/heic",
        }
    }

    /// Whether a declared content type agrees. Generic types (`application/octet-stream`,
    /// none) agree with everything; a specific image type must name this format.
    pub fn accepts_declared(self, declared: &str) -> bool {
        let essence = declared.split(';').next().unwrap_or("").trim();
        match essence {
            "" | "application/octet-stream" | "image/*" => true,
            "image/jpeg" | "image/jpg" | "image/pjpeg" => self == ImageFormat::Jpeg,
            "image/png" => self == ImageFormat::Png,
            "image/webp" => self == ImageFormat::Webp,
            "image/heic" | "image/heif" | "image/heic-sequence" | "image/heif-sequence" => self == ImageFormat::Heif,
            _ => false,
        }
    }
}

const HEIF_BRANDS: [&[u8; 4]; 8] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"];

/// The format of `bytes`, from their first bytes only.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(ImageFormat::Webp);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // Major brand, then compatible brands up to the end of the ftyp box.
        let box_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let end = box_len.clamp(12, 64).min(bytes.len());
        let major = &bytes[8..12];
        let compatible = bytes.get(16..end).unwrap_or(&[]).chunks_exact(4);
        let is_heif = HEIF_BRANDS.iter().any(|b| major == *b || compatible.clone().any(|c| c == *b));
        if is_heif {
            return Some(ImageFormat::Heif);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_table() {
        let cases: [(&[u8], Option<ImageFormat>); 9] = [
            (b"\xFF\xD8\xFF\xE1rest", Some(ImageFormat::Jpeg)),
            (b"\x89PNG\r\n\x1a\n....", Some(ImageFormat::Png)),
            (b"RIFF\0\0\0\0WEBPVP8 ", Some(ImageFormat::Webp)),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", Some(ImageFormat::Heif)),
            (b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic", Some(ImageFormat::Heif)),
            (b"\0\0\0\x18ftypisom\0\0\0\0isommp41", None), // an MP4 video
            (b"GIF89a", None),
            (b"%PDF-1.7", None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn declared_types_must_agree() {
        assert!(ImageFormat::Jpeg.accepts_declared("image/jpeg"));
        assert!(ImageFormat::Jpeg.accepts_declared("application/octet-stream"));
        assert!(ImageFormat::Heif.accepts_declared("image/heic"));
        assert!(!ImageFormat::Jpeg.accepts_declared("image/png"));
        assert!(!ImageFormat::Png.accepts_declared("text/plain"));
    }
}
