//! Metadata stripping for stored images: the upload's camera model, description, GPS, thumbnails,
//! colour profiles and comments are not part of the evidence and are never written.
//!
//! JPEG: every APPn segment except the JFIF header (APP0 `JFIF\0`) and the Adobe colour-transform
//! marker (APP14 `Adobe`, needed to decode some CMYK/RGB files) is removed, and so is every comment
//! (COM). Everything from the first start-of-scan on is copied as is. PNG: the text (`tEXt`,
//! `zTXt`, `iTXt`), `eXIf` and `tIME` chunks are removed. Pixels are never re-encoded, so the
//! stored image decodes to exactly what the engine judged.

use crate::error::{Result, StoreError};

/// The bytes to store for an artefact of `content_type`: images without their metadata, anything
/// else unchanged. A JPEG or PNG whose structure does not parse is refused.
pub(crate) fn strip(content_type: &str, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "image/jpeg" | "image/jpg" if bytes.starts_with(&[0xff, 0xd8]) => {
            strip_jpeg(bytes).map(Some)
        }
        "image/png" if bytes.starts_with(PNG_SIGNATURE) => strip_png(bytes).map(Some),
        _ => Ok(None),
    }
}

fn malformed(what: &str, at: usize) -> StoreError {
    StoreError::invalid(
        "image",
        format!("{what} at byte {at}: metadata cannot be stripped"),
    )
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut pos = 2;
    loop {
        if pos >= b.len() {
            return Err(malformed("JPEG ends before its image data", pos));
        }
        if b[pos] != 0xff {
            return Err(malformed("JPEG marker expected", pos));
        }
        // Fill bytes before a marker.
        let mut m = pos + 1;
        while m < b.len() && b[m] == 0xff {
            m += 1;
        }
        let Some(&marker) = b.get(m) else {
            return Err(malformed("JPEG ends inside a marker", pos));
        };
        match marker {
            0xd9 => {
                out.extend_from_slice(&[0xff, 0xd9]);
                return Ok(out);
            }
            0xda => {
                out.extend_from_slice(&b[m - 1..]);
                return Ok(out);
            }
            0x01 | 0xd0..=0xd7 => {
                out.extend_from_slice(&[0xff, marker]);
                pos = m + 1;
            }
            _ => {
                let len = b
                    .get(m + 1..m + 3)
                    .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
                    .filter(|&l| l >= 2)
                    .ok_or_else(|| malformed("JPEG segment length", m + 1))?;
                let end = m + 1 + len;
                if end > b.len() {
                    return Err(malformed("JPEG segment runs past the end", m));
                }
                let body = &b[m + 3..end];
                let keep = match marker {
                    0xe0 => body.starts_with(b"JFIF\0"),
                    0xee => body.starts_with(b"Adobe"),
                    0xe1..=0xef | 0xfe => false,
                    _ => true,
                };
                if keep {
                    out.push(0xff);
                    out.extend_from_slice(&b[m..end]);
                }
                pos = end;
            }
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn strip_png(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let head = b
            .get(pos..pos + 8)
            .ok_or_else(|| malformed("PNG ends before IEND", pos))?;
        let len = u32::from_be_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let kind = &head[4..8];
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len))
            .filter(|&e| e <= b.len())
            .ok_or_else(|| malformed("PNG chunk runs past the end", pos))?;
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            out.extend_from_slice(&b[pos..end]);
        }
        pos = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xff, marker];
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn jpeg_keeps_structure_drops_metadata() {
        let jfif = seg(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let dqt = seg(0xdb, &[0u8; 65]);
        let sof = seg(0xc0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
        let scan = [
            0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, 0x12, 0x34, 0xff, 0xd9,
        ];
        let mut with = vec![0xff, 0xd8];
        with.extend(&jfif);
        with.extend(seg(0xe1, b"Exif\0\0Canon EOS 5D Alice at home"));
        with.extend(seg(0xe2, b"ICC_PROFILE\0..."));
        with.extend(seg(0xfe, b"a comment"));
        with.extend(&dqt);
        with.extend(&sof);
        with.extend(scan);
        let mut without = vec![0xff, 0xd8];
        without.extend(&jfif);
        without.extend(&dqt);
        without.extend(&sof);
        without.extend(scan);
        assert_eq!(strip("image/jpeg", &with).unwrap().unwrap(), without);
        assert_eq!(strip("image/jpeg", &without).unwrap().unwrap(), without);
        // Truncated inside a segment: refused, not stored as is.
        assert!(strip("image/jpeg", &with[..20]).is_err());
        // Not a JPEG at all, or not an image: unchanged.
        assert!(strip("image/jpeg", b"abc").unwrap().is_none());
        assert!(strip("application/zip", &with).unwrap().is_none());
    }

    #[test]
    fn png_drops_text_chunks() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut v = (data.len() as u32).to_be_bytes().to_vec();
            v.extend_from_slice(kind);
            v.extend_from_slice(data);
            v.extend_from_slice(&[0, 0, 0, 0]);
            v
        };
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let idat = chunk(b"IDAT", b"xx");
        let iend = chunk(b"IEND", b"");
        let mut with = PNG_SIGNATURE.to_vec();
        with.extend(&ihdr);
        with.extend(chunk(b"tEXt", b"Description\0Alice"));
        with.extend(chunk(b"eXIf", b"MM\0*Canon"));
        with.extend(&idat);
        with.extend(&iend);
        let mut without = PNG_SIGNATURE.to_vec();
        without.extend(&ihdr);
        without.extend(&idat);
        without.extend(&iend);
        assert_eq!(strip("image/png", &with).unwrap().unwrap(), without);
        assert!(strip("image/png", &with[..with.len() - 3]).is_err());
    }
}
