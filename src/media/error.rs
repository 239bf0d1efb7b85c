//! Why a file is not accepted as a photo, with the stable code of each reason.

/// Why a file is not accepted as a photo. Each has a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is not a JPEG, PNG, HEIC/HEIF or WebP image")]
    UnsupportedFormat,
    #[error("the file was declared as {declared} but is {actual}")]
    TypeMismatch { declared: String, actual: &'static str },
    #[error("the image header cannot be read: {0}")]
    Unreadable(String),
    #[error("the image is {width}×{height}; the limits are {max_side} px a side and {max_pixels} pixels")]
    DimensionsTooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    #[error("the {what} is {size} bytes; the limit is {limit}")]
    MetadataTooLarge { what: &'static str, size: u64, limit: u64 },
    #[error("the HEIF declares {items} items and {tiles} grid tiles; the limits are {max_items} and {max_tiles}")]
    TooManyTiles { items: u64, tiles: u64, max_items: u64, max_tiles: u64 },
}

impl MediaError {
    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Empty => "photo_empty",
            MediaError::TooLarge { .. } => "photo_too_large",
            MediaError::UnsupportedFormat => "photo_unsupported_format",
            MediaError::TypeMismatch { .. } => "photo_type_mismatch",
            MediaError::Unreadable(_) => "photo_unreadable",
            MediaError::DimensionsTooLarge { .. } => "photo_dimensions_too_large",
            MediaError::MetadataTooLarge { .. } => "photo_metadata_too_large",
            MediaError::TooManyTiles { .. } => "photo_too_many_tiles",
        }
    }
}
