//! A PNG decoded row by row straight into reduced-size luma: memory is one row and the output,
//! whatever the picture's size. Decoding whole (as `image` does) holds the full RGBA picture —
//! a 451 kB interlaced PNG of 10 900 × 10 900 px is 450 MiB — so a few such uploads at once
//! would take the server's memory. Interlaced (Adam7) files come as seven passes of sparse rows;
//! each sample lands in the output block its position falls in, so the result is the same box
//! average as a whole decode reduced.

use std::io::Cursor;

use super::error::MediaError;

/// The Adam7 passes: x offset, x step, y offset, y step (PNG spec, 8.2).
const ADAM7: [(u32, u32, u32, u32); 7] = [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];

/// What a reduced decode gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One byte a pixel, Rec. 709 luma (as `image`'s `to_luma8`); alpha ignored.
    Luma,
    /// Three bytes a pixel (grey repeated); alpha ignored.
    Rgb,
}

impl Output {
    fn channels(self) -> usize {
        match self {
            Output::Luma => 1,
            Output::Rgb => 3,
        }
    }
}

/// The first frame of a PNG as `output`, reduced (box average) so its long side is at most
/// `side` (`None`: full size): width, height and the pixels.
pub fn png_reduced(bytes: &[u8], side: Option<u32>, output: Output) -> Result<(u32, u32, Vec<u8>), MediaError> {
    let unreadable = |e: png::DecodingError| MediaError::Unreadable(format!("PNG data: {e}"));
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(unreadable)?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width == 0 || height == 0 {
        return Err(MediaError::Unreadable("zero width or height".into()));
    }
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(MediaError::Unreadable("PNG palette was not expanded".into())),
    };
    let mut out = Reduction::new(width, height, side, output.channels());
    let passes: Vec<(u32, u32, u32, u32)> = if reader.info().interlaced { ADAM7.to_vec() } else { vec![(0, 1, 0, 1)] };
    let mut value = [0u8; 3];
    for (x0, dx, y0, dy) in passes {
        let (columns, lines) = (width.saturating_sub(x0).div_ceil(dx), height.saturating_sub(y0).div_ceil(dy));
        if columns == 0 || lines == 0 {
            continue;
        }
        for line in 0..lines {
            let row = reader.next_row().map_err(unreadable)?.ok_or_else(|| MediaError::Unreadable("PNG data: ends early".into()))?;
            let data = row.data();
            if data.len() < columns as usize * channels {
                return Err(MediaError::Unreadable("PNG data: a row is short".into()));
            }
            let y = y0 + line * dy;
            for (i, px) in data.chunks_exact(channels).take(columns as usize).enumerate() {
                let rgb = if channels < 3 { [px[0]; 3] } else { [px[0], px[1], px[2]] };
                let sample = match output {
                    Output::Luma => {
                        value[0] = luma_of(rgb);
                        &value[..1]
                    }
                    Output::Rgb => {
                        value = rgb;
                        &value[..]
                    }
                };
                out.add(x0 + i as u32 * dx, y, sample);
            }
        }
    }
    Ok(out.finish())
}

fn luma_of([r, g, b]: [u8; 3]) -> u8 {
    let (r, g, b) = (u32::from(r), u32::from(g), u32::from(b));
    ((2126 * r + 7152 * g + 722 * b + 5000) / 10_000) as u8
}

/// Box-average accumulation into the output grid: each source pixel adds to the block it
/// falls in (the blocks `pixels::reduce_to` averages).
struct Reduction {
    width: u32,
    height: u32,
    channels: usize,
    /// Output block of each source column and row.
    column_block: Vec<u32>,
    row_block: Vec<u32>,
    sums: Vec<u32>,
    counts: Vec<u32>,
    /// Full size: the pixels themselves.
    full: Option<Vec<u8>>,
}

impl Reduction {
    fn new(src_w: u32, src_h: u32, side: Option<u32>, channels: usize) -> Reduction {
        let long = src_w.max(src_h);
        let (w, h) = match side {
            Some(side) if long > side => {
                if src_w >= src_h {
                    (side, ((u64::from(src_h) * u64::from(side)) / u64::from(src_w)).max(1) as u32)
                } else {
                    (((u64::from(src_w) * u64::from(side)) / u64::from(src_h)).max(1) as u32, side)
                }
            }
            _ => {
                return Reduction {
                    width: src_w,
                    height: src_h,
                    channels,
                    column_block: Vec::new(),
                    row_block: Vec::new(),
                    sums: Vec::new(),
                    counts: Vec::new(),
                    full: Some(vec![0; src_w as usize * src_h as usize * channels]),
                }
            }
        };
        // Block b covers source [b·S/n, (b+1)·S/n), as `resize_box` computes it.
        let blocks = |src: u32, n: u32| -> Vec<u32> {
            let mut of = vec![0u32; src as usize];
            for b in 0..n {
                let start = (u64::from(b) * u64::from(src) / u64::from(n)) as usize;
                let end = ((u64::from(b + 1) * u64::from(src) / u64::from(n)) as usize).max(start + 1).min(src as usize);
                of[start..end].iter_mut().for_each(|o| *o = b);
            }
            of
        };
        let cells = w as usize * h as usize;
        Reduction {
            width: w,
            height: h,
            channels,
            column_block: blocks(src_w, w),
            row_block: blocks(src_h, h),
            sums: vec![0; cells * channels],
            counts: vec![0; cells],
            full: None,
        }
    }

    fn add(&mut self, x: u32, y: u32, value: &[u8]) {
        let c = self.channels;
        if let Some(full) = &mut self.full {
            let at = (y as usize * self.width as usize + x as usize) * c;
            full[at..at + c].copy_from_slice(value);
            return;
        }
        let cell = self.row_block[y as usize] as usize * self.width as usize + self.column_block[x as usize] as usize;
        for (sum, &v) in self.sums[cell * c..cell * c + c].iter_mut().zip(value) {
            *sum += u32::from(v);
        }
        self.counts[cell] += 1;
    }

    fn finish(self) -> (u32, u32, Vec<u8>) {
        let pixels = match self.full {
            Some(full) => full,
            None => {
                let c = self.channels;
                self.sums.iter().enumerate().map(|(i, &s)| (s / self.counts[i / c].max(1)) as u8).collect()
            }
        };
        (self.width, self.height, pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `img` as a PNG, Adam7-interlaced or not (the png crate writes only plain files, so the
    /// interlaced one is assembled here: its passes, filter 0, zlib).
    pub(crate) fn encode(img: &image::RgbImage, interlaced: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut info = png::Info::with_size(img.width(), img.height());
        info.color_type = png::ColorType::Rgb;
        info.bit_depth = png::BitDepth::Eight;
        info.interlaced = interlaced;
        let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
        if !interlaced {
            writer.write_image_data(img.as_raw()).unwrap();
        } else {
            let mut raw = Vec::new();
            for (x0, dx, y0, dy) in ADAM7 {
                if img.width() <= x0 || img.height() <= y0 {
                    continue;
                }
                for y in (y0..img.height()).step_by(dy as usize) {
                    raw.push(0);
                    for x in (x0..img.width()).step_by(dx as usize) {
                        raw.extend_from_slice(&img.get_pixel(x, y).0);
                    }
                }
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut z, &raw).unwrap();
            writer.write_chunk(png::chunk::IDAT, &z.finish().unwrap()).unwrap();
        }
        writer.finish().unwrap();
        out
    }

    fn picture(w: u32, h: u32) -> image::RgbImage {
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, ((x ^ y) % 256) as u8]))
    }

    /// The box average of `pixels` (`w` × `h`) to `nw` × `nh`, written out plainly.
    fn box_average(pixels: &[u8], w: u32, h: u32, nw: u32, nh: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for y in 0..nh {
            let (y0, y1) = (y * h / nh, ((y + 1) * h / nh).max(y * h / nh + 1));
            for x in 0..nw {
                let (x0, x1) = (x * w / nw, ((x + 1) * w / nw).max(x * w / nw + 1));
                let sum: u32 = (y0..y1).flat_map(|yy| (x0..x1).map(move |xx| u32::from(pixels[(yy * w + xx) as usize]))).sum();
                out.push((sum / ((y1 - y0) * (x1 - x0))) as u8);
            }
        }
        out
    }

    #[test]
    fn interlaced_and_plain_files_reduce_to_the_same_luma_as_a_whole_decode() {
        let img = picture(1001, 617);
        let whole = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let expected = box_average(whole.as_raw(), 1001, 617, 300, 184);
        for interlaced in [false, true] {
            let (w, h, got) = png_reduced(&encode(&img, interlaced), Some(300), Output::Luma).unwrap();
            assert_eq!((w, h), (300, 184));
            let worst = got.iter().zip(&expected).map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs()).max().unwrap();
            assert!(worst <= 1, "interlaced {interlaced}: differs by {worst}");
            let (w, _, full) = png_reduced(&encode(&img, interlaced), None, Output::Luma).unwrap();
            let worst = full.iter().zip(whole.as_raw()).map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs()).max().unwrap();
            assert!(worst <= 1 && w == 1001, "interlaced {interlaced}: full size differs by {worst}");
            let (_, _, rgb) = png_reduced(&encode(&img, interlaced), None, Output::Rgb).unwrap();
            assert_eq!(rgb, *img.as_raw(), "interlaced {interlaced}: RGB at full size is the picture");
        }
    }

    #[test]
    fn a_cut_file_is_unreadable_not_a_panic() {
        let bytes = encode(&picture(64, 64), true);
        for cut in [8, 33, bytes.len() / 3, bytes.len() / 2] {
            assert!(matches!(png_reduced(&bytes[..cut], Some(32), Output::Luma), Err(MediaError::Unreadable(_))), "cut at {cut}");
        }
    }
}
