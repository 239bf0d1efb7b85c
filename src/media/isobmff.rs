//! The few boxes of a HEIC/HEIF file (ISO/IEC 14496-12, 23008-12) read before it is decoded: how
//! many items it declares and how many tiles its grids join. A phone's photo is a grid of
//! 512 × 512 tiles (48 for a 12 MP iPhone picture, 192 for 48 MP); a file of thousands of tiny
//! tiles stays inside the pixel cap yet costs the decoder a set-up per tile, so it is refused by
//! its counts, before any decode.

/// Tiles all the grids of one file may join (a 48 MP phone photo has 192).
pub const MAX_HEIF_TILES: u64 = 1024;
/// Items one file may declare (a phone's photo has its tiles, the grid, a thumbnail, EXIF, XMP).
pub const MAX_HEIF_ITEMS: u64 = 2048;

/// What a HEIF's `meta` box declares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeifCounts {
    /// The item information box's entry count.
    pub items: u64,
    /// The `dimg` references of every derived image (a grid's tiles), summed.
    pub tiles: u64,
}

/// One box: its type and payload (after the header); `None` at the end or on a broken header.
fn next_box(bytes: &[u8]) -> Option<([u8; 4], &[u8], &[u8])> {
    let size = u64::from(u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?));
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let (header, size) = match size {
        0 => (8, bytes.len() as u64),
        1 => (16, u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?)),
        n => (8, n),
    };
    let size = usize::try_from(size).ok().filter(|s| *s >= header && *s <= bytes.len())?;
    Some((kind, &bytes[header..size], &bytes[size..]))
}

/// The boxes one after another in `bytes`, until the end or a broken header.
fn boxes(mut bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (kind, payload, rest) = next_box(bytes)?;
        bytes = rest;
        Some((kind, payload))
    })
}

fn be(bytes: &[u8], at: usize, width: usize) -> Option<u64> {
    Some(bytes.get(at..at + width)?.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// The counts of the file's top-level `meta` box; `None` when it has none (not a HEIF image, or
/// one the decoder will refuse anyway).
pub fn heif_counts(bytes: &[u8]) -> Option<HeifCounts> {
    let (_, meta) = boxes(bytes).find(|(kind, _)| kind == b"meta")?;
    // A full box: version and flags first.
    let mut counts = HeifCounts::default();
    for (kind, payload) in boxes(meta.get(4..)?) {
        match &kind {
            b"iinf" => {
                let width = if payload.first() == Some(&0) { 2 } else { 4 };
                counts.items = be(payload, 4, width).unwrap_or(0);
            }
            b"iref" => {
                let id = if payload.first() == Some(&0) { 2 } else { 4 };
                for (reference, entry) in boxes(payload.get(4..).unwrap_or_default()) {
                    if &reference == b"dimg" {
                        counts.tiles = counts.tiles.saturating_add(be(entry, id, 2).unwrap_or(0));
                    }
                }
            }
            _ => {}
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iphone() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/iphone-11-pro.heic")).unwrap()
    }

    #[test]
    fn a_phones_grid_is_counted() {
        let counts = heif_counts(&iphone()).unwrap();
        // 4032 × 3024 in 512 × 512 tiles: 8 × 6.
        assert_eq!(counts.tiles, 48, "{counts:?}");
        assert!(counts.items > counts.tiles && counts.items < MAX_HEIF_ITEMS, "{counts:?}");
    }

    #[test]
    fn broken_boxes_end_the_read_quietly() {
        let whole = iphone();
        for cut in [0, 3, 8, 20, 40, 100, 1000, 4000, whole.len() / 2] {
            let counts = heif_counts(&whole[..cut]).unwrap_or_default();
            assert!(counts.tiles <= 48, "{cut}: {counts:?}");
        }
        assert_eq!(heif_counts(b"\0\0\0\x18ftypheic"), None);
        // A box claiming more than the file holds, or a 64-bit size past the end.
        assert_eq!(heif_counts(b"\xff\xff\xff\xffmeta\0\0\0\0"), None);
        assert_eq!(heif_counts(b"\0\0\0\x01meta\xff\xff\xff\xff\xff\xff\xff\xff"), None);
    }
}
