//! Still images: JPEG, PNG and WebP through `image`, size checked from the header before decoding.

use crate::info::{MediaInfo, MediaKind, Warning};
use crate::sniff::{ImageFormat, Sniffed, sniff};
use crate::{Limits, MediaError};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};
use std::io::Cursor;

/// How to decode a still image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Apply the EXIF orientation so the result is upright (silent-compare's `auto_rotate`).
    /// When false the pixels come out as stored and `DecodedImage::info` still reports the
    /// orientation.
    pub auto_rotate: bool,
}

/// A decoded still image.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// RGB8 pixels; upright when `ImageOptions::auto_rotate` was set. Transparent pixels are
    /// composited over white.
    pub image: RgbImage,
    /// Header facts (stored size, EXIF rotation, format, bytes) and warnings.
    pub info: MediaInfo,
    /// The EXIF orientation was applied to `image`.
    pub oriented: bool,
}

/// Reads the header of a JPEG / PNG / WebP image and reports its facts without decoding pixels.
pub fn probe_image(bytes: &[u8], limits: &Limits) -> Result<MediaInfo, MediaError> {
    let (format, mut decoder) = open(bytes, limits)?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok(info(bytes, format, width, height, orientation, limits))
}

/// Decodes a JPEG / PNG / WebP image to RGB8.
///
/// Refuses, before decoding pixels: empty input, more than `max_image_bytes`, unknown or
/// unsupported formats (HEIC, GIF, TIFF, ... are [`MediaError::UnsupportedFormat`]), and
/// dimensions over the limits. A resolution under the minimum is a [`Warning::LowResolution`].
pub fn decode_image(
    bytes: &[u8],
    options: &ImageOptions,
    limits: &Limits,
) -> Result<DecodedImage, MediaError> {
    let (format, mut decoder) = open(bytes, limits)?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let info = info(bytes, format, width, height, orientation, limits);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    if image.width() != width || image.height() != height {
        return Err(MediaError::corrupt(format!(
            "header says {width}x{height}, decoder produced {}x{}",
            image.width(),
            image.height()
        )));
    }
    let oriented = options.auto_rotate && orientation != Orientation::NoTransforms;
    if oriented {
        image.apply_orientation(orientation);
    }
    Ok(DecodedImage {
        image: to_rgb8(image),
        info,
        oriented,
    })
}

/// Recognises the format, checks the byte and pixel limits from the header, and returns a decoder
/// that has read only the header.
fn open<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(ImageFormat, Box<dyn ImageDecoder + 'a>), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() as u64 > limits.max_image_bytes {
        return Err(MediaError::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_image_bytes,
        });
    }
    let format = match sniff(bytes) {
        Sniffed::Image(f) => f,
        Sniffed::UnsupportedImage(name) => {
            return Err(MediaError::UnsupportedFormat {
                format: name.into(),
            });
        }
        Sniffed::Other => return Err(MediaError::NotMedia),
    };
    let image_format = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::WebP => image::ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_image_width);
    image_limits.max_image_height = Some(limits.max_image_height);
    // RGBA16 output plus the decoder's own working memory.
    image_limits.max_alloc = Some(limits.max_image_pixels.saturating_mul(8) + (64 << 20));
    reader.limits(image_limits);
    // The decoder reads the header only; dimension limits are enforced by `image` here already,
    // but we measure ourselves to report the dimensions.
    let decoder = match reader.into_decoder() {
        Ok(d) => d,
        Err(ImageError::Limits(_)) => {
            let (w, h) = header_dimensions(bytes, image_format).unwrap_or((0, 0));
            return Err(dimension_error(w, h, limits)
                .unwrap_or_else(|| MediaError::corrupt("image limits exceeded in the header")));
        }
        Err(e) => return Err(image_error(e)),
    };
    let (w, h) = decoder.dimensions();
    if let Some(e) = dimension_error(w, h, limits) {
        return Err(e);
    }
    if w == 0 || h == 0 {
        return Err(MediaError::corrupt(format!("header declares {w}x{h}")));
    }
    if format == ImageFormat::Jpeg && !jpeg_has_end(bytes) {
        // The JPEG decoder fills missing data with grey instead of failing.
        return Err(MediaError::corrupt(
            "truncated JPEG: no end-of-image marker",
        ));
    }
    Ok((format, Box::new(decoder)))
}

/// Walks the JPEG marker segments to the first start-of-scan (skipping APPn segments, which may
/// hold a thumbnail with its own markers) and looks for the end-of-image marker after it.
/// Entropy-coded data cannot contain `FF D9` (0xFF bytes are stuffed), so its absence means the
/// file was cut short.
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        match marker {
            0xFF => i += 1, // fill byte
            0xD8 | 0x01 | 0xD0..=0xD7 => i += 2,
            0xD9 => return true,
            _ => {
                let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
                if marker == 0xDA {
                    let scan = (i + 2 + len).min(bytes.len());
                    return bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9]);
                }
                i += 2 + len;
            }
        }
    }
    false
}

/// Dimensions from a reader without limits: only used to report a refusal precisely.
fn header_dimensions(bytes: &[u8], format: image::ImageFormat) -> Option<(u32, u32)> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    reader.into_dimensions().ok()
}

fn dimension_error(w: u32, h: u32, limits: &Limits) -> Option<MediaError> {
    if u64::from(w) * u64::from(h) > limits.max_image_pixels {
        return Some(MediaError::TooManyPixels {
            width: w,
            height: h,
            limit: limits.max_image_pixels,
        });
    }
    if w > limits.max_image_width || h > limits.max_image_height {
        return Some(MediaError::DimensionsTooLarge {
            width: w,
            height: h,
            max_width: limits.max_image_width,
            max_height: limits.max_image_height,
        });
    }
    None
}

fn info(
    bytes: &[u8],
    format: ImageFormat,
    width: u32,
    height: u32,
    orientation: Orientation,
    limits: &Limits,
) -> MediaInfo {
    let (rotation, mirrored) = match orientation {
        Orientation::NoTransforms => (0, false),
        Orientation::Rotate90 => (90, false),
        Orientation::Rotate180 => (180, false),
        Orientation::Rotate270 => (270, false),
        Orientation::FlipHorizontal => (0, true),
        Orientation::FlipVertical => (180, true),
        Orientation::Rotate90FlipH => (90, true),
        Orientation::Rotate270FlipH => (270, true),
    };
    let mut warnings = Vec::new();
    let (long, short) = (width.max(height), width.min(height));
    let (min_long, min_short) = (
        limits.min_image_width.max(limits.min_image_height),
        limits.min_image_width.min(limits.min_image_height),
    );
    if long < min_long || short < min_short {
        warnings.push(Warning::LowResolution {
            width,
            height,
            min_width: limits.min_image_width,
            min_height: limits.min_image_height,
        });
    }
    MediaInfo {
        kind: MediaKind::Image,
        container: format.name().into(),
        codec: format.name().into(),
        width,
        height,
        rotation,
        mirrored,
        fps: None,
        fps_real: None,
        variable_frame_rate: None,
        duration_seconds: None,
        frames: None,
        has_audio: false,
        pixel_format: None,
        bytes: bytes.len() as u64,
        warnings,
    }
}

/// RGB8, with transparency composited over white (a cut-out face on black would look like a
/// different capture).
fn to_rgb8(image: DynamicImage) -> RgbImage {
    match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            let (w, h) = rgba.dimensions();
            let mut out = RgbImage::new(w, h);
            for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
                let a = u32::from(src[3]);
                for c in 0..3 {
                    dst[c] = ((u32::from(src[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
                }
            }
            out
        }
        other => other.to_rgb8(),
    }
}

fn image_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Limits(l) => MediaError::corrupt(format!("decoder limit: {l}")),
        ImageError::Unsupported(u) => MediaError::UnsupportedFormat {
            format: u.to_string(),
        },
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::corrupt("truncated image data")
        }
        other => MediaError::corrupt(other.to_string()),
    }
}
