//! Editing traces outside EXIF: the XMP packet (`xmp:CreatorTool`, Camera Raw / Photoshop
//! namespaces, history agents), Photoshop's APP13 resource block (told apart from an IPTC block
//! alone, which cameras and keyword tools write) and the JPEG quantisation table (an editor's
//! standard table on a phone that has its own). The XMP packet's EXIF facts come along for
//! [`super::exif`]'s fallback. Reads only JPEG segments before the image data, PNG text chunks,
//! WebP's `XMP ` chunk and, in HEIF, the packet wherever it lies, so it costs microseconds.

use super::xmp::{self, XmpExif};

/// What the file's non-EXIF metadata says about the tools that touched it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditMarkers {
    /// `xmp:CreatorTool`, when present.
    pub creator_tool: Option<String>,
    /// `stEvt:softwareAgent` entries of the XMP history.
    pub history_agents: Vec<String>,
    /// The XMP carries Photoshop (`photoshop:`) or Camera Raw / Lightroom (`crs:`) settings.
    pub adobe_namespaces: bool,
    /// A Photoshop 3.0 image resource block (APP13) with Photoshop's own resources (resolution,
    /// thumbnail, version info …), not only IPTC data and its digest.
    pub photoshop_irb: bool,
    /// An IPTC-NAA record (APP13 resource 0x0404): cameras write one, and so does a keyword tool.
    pub iptc: bool,
    /// The JPEG luminance quantisation table, judged.
    pub quantisation: Option<Quantisation>,
    /// The EXIF facts of the XMP packet.
    pub xmp_exif: XmpExif,
    /// The size of the largest XMP packet found, in bytes (see [`MAX_XMP_BYTES`]).
    pub xmp_bytes: usize,
}

/// A JPEG's luminance quantisation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantisation {
    /// The Independent JPEG Group's example table (JPEG standard Annex K) scaled for a quality
    /// 1–100, as libjpeg, GIMP, ImageMagick, PIL and Android's `Bitmap.compress` write it.
    Ijg(u8),
    /// Any other table: FNV-1a of its 64 values in natural order.
    Other(u32),
}

impl Quantisation {
    /// `ijg:95` or `other:1a2b3c4d`, as stored in the facts.
    pub fn label(self) -> String {
        match self {
            Quantisation::Ijg(q) => format!("ijg:{q}"),
            Quantisation::Other(fp) => format!("other:{fp:08x}"),
        }
    }
}

/// JPEG Annex K's luminance table, natural order.
const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
    37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Zig-zag position → natural position.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56,
    57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Which quality of libjpeg's `jpeg_set_quality` (baseline, so clamped to 255) writes `table`.
fn judge_table(table: &[u16; 64]) -> Quantisation {
    for quality in (1u32..=100).rev() {
        let scale = if quality < 50 { 5000 / quality } else { 200 - quality * 2 };
        let matches = ANNEX_K_LUMA.iter().zip(table).all(|(&k, &t)| ((u32::from(k) * scale + 50) / 100).clamp(1, 255) == u32::from(t));
        if matches {
            return Quantisation::Ijg(quality as u8);
        }
    }
    let fp = table.iter().fold(0x811c_9dc5u32, |h, &v| (h ^ u32::from(v)).wrapping_mul(0x0100_0193));
    Quantisation::Other(fp)
}

/// The luminance table (id 0) of a DQT segment's payload, in natural order.
fn luma_table(payload: &[u8]) -> Option<[u16; 64]> {
    let mut pos = 0usize;
    while pos < payload.len() {
        let (precision, id) = (payload[pos] >> 4, payload[pos] & 0x0F);
        let size = if precision == 0 { 64 } else { 128 };
        let values = payload.get(pos + 1..pos + 1 + size)?;
        if id == 0 {
            let mut table = [0u16; 64];
            for (i, natural) in ZIGZAG.iter().enumerate() {
                table[*natural] =
                    if precision == 0 { u16::from(values[i]) } else { u16::from_be_bytes([values[2 * i], values[2 * i + 1]]) };
            }
            return Some(table);
        }
        pos += 1 + size;
    }
    None
}

/// The ids of a Photoshop 3.0 block's resources (`8BIM`, id, Pascal name, size, data).
fn photoshop_resources(block: &[u8]) -> Vec<u16> {
    let mut ids = Vec::new();
    let mut pos = 0usize;
    while pos + 12 <= block.len() && ids.len() < 256 {
        if &block[pos..pos + 4] != b"8BIM" {
            break;
        }
        ids.push(u16::from_be_bytes([block[pos + 4], block[pos + 5]]));
        let name_len = usize::from(block[pos + 6]);
        let name_total = (1 + name_len + 1) & !1; // padded to even
        let size_at = pos + 6 + name_total;
        let Some(size) = block.get(size_at..size_at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize) else { break };
        pos = size_at + 4 + ((size + 1) & !1);
    }
    ids
}

/// IPTC-NAA and the IPTC digest: what a camera or a keyword tool writes without Photoshop.
const IPTC_RESOURCES: [u16; 2] = [0x0404, 0x0425];

const XMP_JPEG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Scans a JPEG's APP segments or a PNG's text chunks; anything else yields nothing.
pub fn scan(bytes: &[u8]) -> EditMarkers {
    let mut markers = EditMarkers::default();
    if bytes.starts_with(&[0xFF, 0xD8]) {
        for (marker, payload) in jpeg_segments(bytes) {
            match marker {
                0xE1 if payload.starts_with(XMP_JPEG) => read_xmp(&payload[XMP_JPEG.len()..], &mut markers),
                0xED if payload.starts_with(b"Photoshop 3.0\0") => {
                    let ids = photoshop_resources(&payload[b"Photoshop 3.0\0".len()..]);
                    markers.iptc |= ids.contains(&0x0404);
                    markers.photoshop_irb |= ids.iter().any(|id| !IPTC_RESOURCES.contains(id));
                }
                0xDB if markers.quantisation.is_none() => markers.quantisation = luma_table(payload).map(|t| judge_table(&t)),
                _ => {}
            }
        }
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        for (kind, chunk) in png_chunks(bytes) {
            if kind == b"iTXt" || kind == b"tEXt" {
                if chunk.starts_with(b"XML:com.adobe.xmp\0") {
                    read_xmp(chunk, &mut markers);
                } else if let Some(value) = chunk.strip_prefix(b"Software\0") {
                    markers.creator_tool.get_or_insert_with(|| String::from_utf8_lossy(value).trim().to_string());
                }
            }
        }
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        let mut pos = 12usize;
        for _ in 0..64 {
            let Some(header) = bytes.get(pos..pos + 8) else { break };
            let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
            let start = pos + 8;
            let Some(end) = start.checked_add(size).filter(|e| *e <= bytes.len()) else { break };
            if &header[..4] == b"XMP " {
                read_xmp(&bytes[start..end], &mut markers);
                break;
            }
            pos = end + size % 2;
        }
    } else if let Some(at) = memchr::memmem::find(bytes, b"<x:xmpmeta") {
        // HEIF keeps its XMP as an item anywhere in the file.
        let packet = &bytes[at..];
        let end = memchr::memmem::find(packet, b"</x:xmpmeta>").map_or(packet.len(), |e| e + b"</x:xmpmeta>".len());
        read_xmp(&packet[..end], &mut markers);
    }
    markers
}

/// A JPEG's segments before the image data, as (marker, payload). Extraneous bytes before a
/// marker are skipped as libjpeg skips them (it warns); at most 64 segments, as real files have
/// a handful.
fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2usize;
    let mut left = 64;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        left -= 1;
        let skip = bytes.get(pos..)?.iter().take(4096).position(|&b| b == 0xFF)?;
        pos += skip;
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1; // fill bytes
        }
        let marker = *bytes.get(pos + 1)?;
        if marker == 0xDA || marker == 0xD9 || pos + 4 > bytes.len() {
            return None; // start of scan / end of image: no more metadata
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        let (start, end) = (pos + 4, (pos + 2 + len).min(bytes.len()));
        if len < 2 || start > end {
            return None;
        }
        pos += 2 + len;
        Some((marker, &bytes[start..end]))
    })
}

/// What libjpeg holds for a progressive JPEG (frame header SOF2, SOF6, SOF10 or SOF14): every
/// DCT coefficient of the picture, 64 of 2 bytes per 8×8 block of each component at its own
/// sampling, until the last scan — whatever the output scale. `None` for a sequential file
/// (decoded a band of blocks at a time).
pub fn jpeg_coefficient_bytes(bytes: &[u8]) -> Option<u64> {
    let (_, p) = jpeg_segments(bytes).find(|(marker, _)| matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE))?;
    let (height, width, count) =
        (u64::from(u16::from_be_bytes([*p.get(1)?, *p.get(2)?])), u64::from(u16::from_be_bytes([p[3], p[4]])), *p.get(5)?);
    let sampling: Vec<(u64, u64)> = (0..usize::from(count))
        .filter_map(|i| p.get(7 + 3 * i).map(|&hv| (u64::from(hv >> 4).max(1), u64::from(hv & 15).max(1))))
        .collect();
    let (h_max, v_max) = sampling.iter().fold((1, 1), |(h, v), &(hi, vi)| (h.max(hi), v.max(vi)));
    let blocks = |size: u64, factor: u64, max: u64| (size * factor).div_ceil(max).div_ceil(8);
    Some(sampling.iter().map(|&(h, v)| blocks(width, h, h_max) * blocks(height, v, v_max) * 128).sum())
}

/// A JPEG's width and height from its frame header, found past extraneous bytes (for the files
/// a strict header reader gives up on).
pub fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    jpeg_segments(bytes).find_map(|(marker, p)| {
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        (sof && p.len() >= 5).then(|| (u32::from(u16::from_be_bytes([p[3], p[4]])), u32::from(u16::from_be_bytes([p[1], p[2]]))))
    })
}

/// The largest XMP packet a photo may carry: a camera's is a few kB (64 kB at most in a JPEG
/// segment); a 25 MB packet in a PNG or HEIF is a parser bomb, refused before anything else.
pub const MAX_XMP_BYTES: usize = 4 * 1024 * 1024;

/// A PNG's chunks before its image data, as (type, data), at most 256.
fn png_chunks(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut pos = 8usize;
    let mut left = 256;
    std::iter::from_fn(move || {
        if left == 0 || pos + 8 > bytes.len() {
            return None;
        }
        left -= 1;
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let start = pos + 8;
        let end = start.checked_add(len).filter(|e| *e <= bytes.len())?;
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        pos = end + 4; // skip the CRC
        Some((kind, &bytes[start..end]))
    })
}

fn read_xmp(xmp: &[u8], markers: &mut EditMarkers) {
    markers.xmp_bytes = markers.xmp_bytes.max(xmp.len());
    let text = String::from_utf8_lossy(&xmp[..xmp.len().min(256 * 1024)]);
    if let Some(tool) = value_of(&text, "xmp:CreatorTool") {
        markers.creator_tool = Some(tool);
    }
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("stEvt:softwareAgent") {
        rest = &rest[i + "stEvt:softwareAgent".len()..];
        if let Some(agent) = value_after(rest) {
            if !markers.history_agents.contains(&agent) && markers.history_agents.len() < 16 {
                markers.history_agents.push(agent);
            }
        }
    }
    // Camera Raw settings, or Photoshop's own document properties. (The photoshop namespace
    // alone is not Photoshop: iPhones write `photoshop:DateCreated` in every HEIC.)
    markers.adobe_namespaces = text.contains("xmlns:crs=")
        || ["photoshop:ColorMode", "photoshop:ICCProfile", "photoshop:History", "photoshop:DocumentAncestors", "photoshop:TextLayers"]
            .iter()
            .any(|p| text.contains(p));
    markers.xmp_exif = xmp::read_exif(&text);
}

/// The value of `name="…"` or `<name>…</name>`.
fn value_of(text: &str, name: &str) -> Option<String> {
    let i = text.find(name)?;
    value_after(&text[i + name.len()..])
}

fn value_after(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    let value = if let Some(r) = rest.strip_prefix('=') {
        let r = r.trim_start();
        let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let r = &r[1..];
        &r[..r.find(quote)?]
    } else if let Some(r) = rest.strip_prefix('>') {
        &r[..r.find('<')?]
    } else {
        return None;
    };
    let value = value.trim();
    (!value.is_empty() && value.len() <= 200).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_app1_xmp(xmp: &str) -> Vec<u8> {
        let mut payload = XMP_JPEG.to_vec();
        payload.extend_from_slice(xmp.as_bytes());
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        out
    }

    #[test]
    fn xmp_tools_and_history_are_read() {
        let xmp = r#"<x:xmpmeta><rdf:Description xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
            xmp:CreatorTool="Snapseed 2.0"><stEvt:softwareAgent>Adobe Photoshop Lightroom 2.0</stEvt:softwareAgent>
            </rdf:Description></x:xmpmeta>"#;
        let m = scan(&jpeg_with_app1_xmp(xmp));
        assert_eq!(m.creator_tool.as_deref(), Some("Snapseed 2.0"));
        assert_eq!(m.history_agents, vec!["Adobe Photoshop Lightroom 2.0".to_string()]);
        assert!(m.adobe_namespaces);
    }

    #[test]
    fn quantisation_tables_of_the_real_cameras() {
        // What `rules::edits::CAMERA_WRITES_IJG` learned from: Samsung's and HTC's cameras write
        // the IJG table, Apple's and OPPO's their own; Lightroom and Photoshop exports their own.
        let fixture = |name: &str| std::fs::read(format!("{}/fixtures/photos/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for (name, ijg) in [
            ("samsung-galaxy-s7-edge.jpg", Some(96)),
            ("htc-one-m8-no-gps.jpg", Some(95)),
            ("iphone-6.jpg", None),
            ("oppo-r7-plus.jpg", None),
            ("canon-1d-via-lightroom.jpg", None),
            ("photoshop-cs6-export.jpg", None),
        ] {
            match (scan(&fixture(name)).quantisation, ijg) {
                (Some(Quantisation::Ijg(q)), Some(expected)) => assert_eq!(q, expected, "{name}"),
                (Some(Quantisation::Other(_)), None) => {}
                (other, _) => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(judge_table(&ANNEX_K_LUMA), Quantisation::Ijg(50));
    }

    #[test]
    fn iptc_alone_is_not_photoshop() {
        let mut iptc_only = b"\xFF\xD8\xFF\xED\x00\x00Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x02\x1C\x02".to_vec();
        let len = (iptc_only.len() - 4) as u16;
        iptc_only[4..6].copy_from_slice(&len.to_be_bytes());
        iptc_only.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        let m = scan(&iptc_only);
        assert!(m.iptc && !m.photoshop_irb, "{m:?}");
        assert_eq!(photoshop_resources(b"8BIM\x03\xED\x00\x00\x00\x00\x00\x00"), vec![0x03ED]);
    }

    #[test]
    fn broken_segments_end_the_scan_quietly() {
        for bytes in [&b"\xFF\xD8\xFF\xE1\xFF\xFF"[..], b"\xFF\xD8\xFF\xE1\x00\x00", b"\xFF\xD8", b"\x89PNG\r\n\x1a\n\xFF\xFF\xFF\xFFiTXt"]
        {
            assert_eq!(scan(bytes), EditMarkers::default());
        }
    }
}
