//! Recognise still-image formats from their first bytes, before any decoder sees them.

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// An image format this crate decodes.
    Image(ImageFormat),
    /// A known image format that is refused, with its name.
    UnsupportedImage(&'static str),
    /// Not a known image: may be a video container (FFmpeg decides) or nothing.
    Other,
}

/// The still-image formats decoded here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    WebP,
}

impl ImageFormat {
    /// Lower-case name, as reported in `MediaInfo::container`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::WebP => "webp",
        }
    }

    /// The format of `bytes` when they are a decodable still image (by their signature).
    pub fn of(bytes: &[u8]) -> Option<ImageFormat> {
        match sniff(bytes) {
            Sniffed::Image(f) => Some(f),
            _ => None,
        }
    }

    /// The MIME type, as stored and served.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::WebP => "image/webp",
        }
    }
}

/// ISO-BMFF brands of HEIF / AVIF still images and image sequences.
const HEIF_BRANDS: &[(&[u8; 4], &str)] = &[
    (b"heic", "heic"),
    (b"heix", "heic"),
    (b"heim", "heic"),
    (b"heis", "heic"),
    (b"hevc", "heic"),
    (b"hevx", "heic"),
    (b"mif1", "heif"),
    (b"msf1", "heif"),
    (b"avif", "avif"),
    (b"avis", "avif"),
];

pub(crate) fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Image(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image(ImageFormat::Png);
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Sniffed::Image(ImageFormat::WebP);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::UnsupportedImage("gif");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Sniffed::UnsupportedImage("tiff");
    }
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Sniffed::UnsupportedImage("jxl");
    }
    if bytes.len() >= 26 && starts(b"BM") {
        // BITMAPFILEHEADER: the declared file size and the info-header size must be plausible.
        let info_size = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
        if matches!(info_size, 12 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Sniffed::UnsupportedImage("bmp");
        }
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let major = &bytes[8..12];
        for (brand, name) in HEIF_BRANDS {
            if major == &brand[..] {
                return Sniffed::UnsupportedImage(name);
            }
        }
    }
    Sniffed::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_numbers() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0rest"),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\nrest"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Sniffed::Image(ImageFormat::WebP)
        );
        assert_eq!(sniff(b"GIF89a...."), Sniffed::UnsupportedImage("gif"));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Sniffed::UnsupportedImage("heic")
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"), Sniffed::Other);
        assert_eq!(sniff(b"RIFF\x10\0\0\0AVI LIST"), Sniffed::Other);
        assert_eq!(sniff(b""), Sniffed::Other);
        assert_eq!(sniff(b"BM"), Sniffed::Other);
    }
}
