//! Decoded frame -> upright RGB8 at a target size: colour conversion and scaling in one swscale
//! call, then a rotating copy out of FFmpeg's padded buffer.

use crate::MediaError;
use ffmpeg_next::ffi::*;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use image::RgbImage;
use std::ffi::c_int;
use std::ptr;

/// Cached swscale context for one (source format, size, colour) -> (RGB24, size) conversion.
pub(crate) struct Converter {
    sws: *mut SwsContext,
    key: Option<Key>,
    flags: c_int,
    out: Option<frame::Video>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    format: i32,
    width: u32,
    height: u32,
    out_width: u32,
    out_height: u32,
    colorspace: i32,
    full_range: bool,
}

impl Converter {
    /// `smooth` picks bicubic (full resolution, like the ffmpeg CLI) over bilinear (analysis).
    pub(crate) fn new(smooth: bool) -> Self {
        Converter {
            sws: ptr::null_mut(),
            key: None,
            flags: if smooth { SWS_BICUBIC } else { SWS_BILINEAR },
            out: None,
        }
    }

    /// Converts `src` to RGB8 at `out_width` x `out_height` (storage orientation), then rotates
    /// it clockwise by `rotation` degrees (0, 90, 180 or 270).
    pub(crate) fn convert(
        &mut self,
        src: &frame::Video,
        out_width: u32,
        out_height: u32,
        rotation: u32,
    ) -> Result<RgbImage, MediaError> {
        // SAFETY: reading plain fields of a decoded frame.
        let (format, colorspace, range) = unsafe {
            let f = src.as_ptr();
            ((*f).format, (*f).colorspace as i32, (*f).color_range)
        };
        let full_range = range == AVColorRange::AVCOL_RANGE_JPEG
            || matches!(
                src.format(),
                Pixel::YUVJ420P | Pixel::YUVJ422P | Pixel::YUVJ444P | Pixel::YUVJ440P
            );
        let key = Key {
            format,
            width: src.width(),
            height: src.height(),
            out_width,
            out_height,
            colorspace,
            full_range,
        };
        if key.width == 0 || key.height == 0 || out_width == 0 || out_height == 0 {
            return Err(MediaError::corrupt("decoded frame without a size"));
        }
        if self.key != Some(key) {
            self.setup(key, src.format())?;
        }
        let out = self.out.as_mut().expect("set up above");
        // SAFETY: the context was created for exactly this input format and size, and `out` was
        // allocated by FFmpeg for the output size.
        let rows = unsafe {
            let s = src.as_ptr();
            let d = out.as_mut_ptr();
            sws_scale(
                self.sws,
                (*s).data.as_ptr() as *const *const u8,
                (*s).linesize.as_ptr(),
                0,
                key.height as c_int,
                (*d).data.as_ptr(),
                (*d).linesize.as_ptr(),
            )
        };
        if rows != out_height as c_int {
            return Err(MediaError::corrupt(format!(
                "colour conversion produced {rows} of {out_height} rows"
            )));
        }
        Ok(upright(
            out.data(0),
            out.stride(0),
            out_width,
            out_height,
            rotation,
        ))
    }

    fn setup(&mut self, key: Key, pixel: Pixel) -> Result<(), MediaError> {
        // SAFETY: swscale allocation; the previous context is freed by sws_getCachedContext.
        unsafe {
            let src_format: AVPixelFormat = pixel.into();
            self.sws = sws_getCachedContext(
                self.sws,
                key.width as c_int,
                key.height as c_int,
                src_format,
                key.out_width as c_int,
                key.out_height as c_int,
                AVPixelFormat::AV_PIX_FMT_RGB24,
                self.flags,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null(),
            );
            if self.sws.is_null() {
                self.key = None;
                return Err(MediaError::UnsupportedCodec {
                    codec: format!("pixel format {}", pixel_name(src_format)),
                });
            }
            // The matrix the stream declares (BT.601 when unspecified) and its range.
            let table = sws_getCoefficients(key.colorspace);
            let rgb = sws_getCoefficients(SWS_CS_DEFAULT as c_int);
            sws_setColorspaceDetails(
                self.sws,
                table,
                c_int::from(key.full_range),
                rgb,
                1,
                0,
                1 << 16,
                1 << 16,
            );
        }
        let reuse = self
            .out
            .as_ref()
            .is_some_and(|o| o.width() == key.out_width && o.height() == key.out_height);
        if !reuse {
            self.out = Some(frame::Video::new(
                Pixel::RGB24,
                key.out_width,
                key.out_height,
            ));
        }
        self.key = Some(key);
        Ok(())
    }
}

impl Drop for Converter {
    fn drop(&mut self) {
        if !self.sws.is_null() {
            // SAFETY: created by sws_getCachedContext, freed once.
            unsafe { sws_freeContext(self.sws) };
        }
    }
}

pub(crate) fn pixel_name(format: AVPixelFormat) -> String {
    // SAFETY: FFmpeg returns a static string or null.
    unsafe {
        let p = av_get_pix_fmt_name(format);
        if p.is_null() {
            "unknown".into()
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Copies packed RGB rows (`stride` bytes apart) into an image rotated clockwise by `rotation`.
pub(crate) fn upright(
    src: &[u8],
    stride: usize,
    width: u32,
    height: u32,
    rotation: u32,
) -> RgbImage {
    let (w, h) = (width as usize, height as usize);
    let row = |y: usize| &src[y * stride..y * stride + w * 3];
    match rotation {
        90 | 270 => {
            let mut out = vec![0u8; w * h * 3];
            // Output is h wide and w tall.
            for sy in 0..h {
                let line = row(sy);
                for sx in 0..w {
                    let (dx, dy) = if rotation == 90 {
                        (h - 1 - sy, sx)
                    } else {
                        (sy, w - 1 - sx)
                    };
                    let d = (dy * h + dx) * 3;
                    out[d..d + 3].copy_from_slice(&line[sx * 3..sx * 3 + 3]);
                }
            }
            RgbImage::from_raw(height, width, out).expect("sized above")
        }
        180 => {
            let mut out = vec![0u8; w * h * 3];
            for sy in 0..h {
                let line = row(sy);
                let dy = h - 1 - sy;
                for sx in 0..w {
                    let d = (dy * w + (w - 1 - sx)) * 3;
                    out[d..d + 3].copy_from_slice(&line[sx * 3..sx * 3 + 3]);
                }
            }
            RgbImage::from_raw(width, height, out).expect("sized above")
        }
        _ => {
            let mut out = Vec::with_capacity(w * h * 3);
            for sy in 0..h {
                out.extend_from_slice(row(sy));
            }
            RgbImage::from_raw(width, height, out).expect("sized above")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;

    #[test]
    fn rotations_match_imageops() {
        let (w, h) = (5u32, 3u32);
        let stride = 20; // padded rows, as FFmpeg gives them
        let mut src = vec![0u8; stride * h as usize];
        let mut plain = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let p = [(x * 10 + y) as u8, (x * 3) as u8, (y * 7) as u8];
                let o = y as usize * stride + x as usize * 3;
                src[o..o + 3].copy_from_slice(&p);
                plain.put_pixel(x, y, image::Rgb(p));
            }
        }
        assert_eq!(upright(&src, stride, w, h, 0), plain);
        assert_eq!(upright(&src, stride, w, h, 90), imageops::rotate90(&plain));
        assert_eq!(
            upright(&src, stride, w, h, 180),
            imageops::rotate180(&plain)
        );
        assert_eq!(
            upright(&src, stride, w, h, 270),
            imageops::rotate270(&plain)
        );
    }
}
