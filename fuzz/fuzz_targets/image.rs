//! Any bytes through `probe`, `decode_image` (with and without EXIF orientation) and, when the
//! bytes are text, `decode_base64`: a result, never a crash or an oversized allocation.
#![no_main]

use faceproof_media::{ImageOptions, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_image_pixels: 4_000_000,
        ..Limits::default()
    };
    let _ = faceproof_media::probe(data, &limits);
    for auto_rotate in [false, true] {
        if let Ok(img) = faceproof_media::decode_image(data, &ImageOptions { auto_rotate }, &limits) {
            let (w, h) = img.info.upright_size();
            let expected = if auto_rotate { (w, h) } else { (img.info.width, img.info.height) };
            assert_eq!(img.image.dimensions(), expected);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = faceproof_media::decode_base64(text, 1 << 20);
    }
});
