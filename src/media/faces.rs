//! Frontal face detection (SeetaFace's cascade via rustface) on the reduced-scale luma image, for
//! `with_customer` photos: the rep and the customer should both be visible.
//!
//! The model ships with the rustface crate; a copy lives in `data/` (BSD licence beside it) and
//! is compiled into the binary, so nothing is downloaded at run time.

use std::sync::OnceLock;

use super::pixels::Luma;

static MODEL_BYTES: &[u8] = include_bytes!("../../data/seeta_fd_frontal_v1.0.bin");

fn model() -> Option<&'static rustface::Model> {
    static MODEL: OnceLock<Option<rustface::Model>> = OnceLock::new();
    MODEL.get_or_init(|| rustface::read_model(std::io::Cursor::new(MODEL_BYTES)).ok()).as_ref()
}

/// The number of frontal faces at least `min_face_px` tall in the image (as decoded).
pub fn count_faces(luma: &Luma, min_face_px: u32) -> usize {
    let Some(model) = model() else { return 0 };
    // The cascade's windows need at least 20 px; tiny images have no countable faces.
    if luma.width < 24 || luma.height < 24 {
        return 0;
    }
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_min_face_size(min_face_px.max(20));
    detector.set_score_thresh(2.0);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let image = rustface::ImageData::new(&luma.pixels, luma.width, luma.height);
    detector.detect(&image).len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_model_loads() {
        assert!(super::model().is_some());
    }
}
