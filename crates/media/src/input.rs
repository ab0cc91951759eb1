//! Inputs in the forms the APIs receive them: base64 text (with or without a data-URL prefix) and
//! files. Multipart fields and decrypted envelopes are already byte buffers.

use crate::MediaError;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::io::Read;
use std::path::Path;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes base64 text into bytes.
///
/// Accepts a `data:<mime>;base64,` prefix, ASCII whitespace anywhere (line-wrapped MIME output),
/// padding or none, and the URL-safe alphabet. Refuses text whose decoded size would exceed
/// `max_bytes` before decoding it, and returns [`MediaError::Empty`] for empty content.
pub fn decode_base64(text: &str, max_bytes: u64) -> Result<Vec<u8>, MediaError> {
    let mut body = text.trim_start();
    if let Some(rest) = strip_prefix_ignore_case(body, "data:") {
        let comma = rest.find(',').ok_or_else(|| MediaError::InvalidBase64 {
            detail: "data URL without a comma".into(),
        })?;
        let header = &rest[..comma];
        if !header.to_ascii_lowercase().ends_with(";base64") {
            return Err(MediaError::InvalidBase64 {
                detail: "data URL is not base64-encoded".into(),
            });
        }
        body = &rest[comma + 1..];
    }

    let mut compact = Vec::with_capacity(body.len().min(max_bytes as usize / 3 * 4 + 8));
    let mut url_safe = false;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => continue,
            b'-' | b'_' => url_safe = true,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => {}
            _ => {
                return Err(MediaError::InvalidBase64 {
                    detail: format!("byte 0x{b:02x} at offset {i} is not base64"),
                });
            }
        }
        compact.push(b);
        // Refuse as soon as the text alone proves the result too large.
        let decoded_at_least = (compact.len() as u64 / 4) * 3;
        if decoded_at_least > max_bytes + 3 {
            return Err(MediaError::TooLarge {
                bytes: estimate_decoded(body),
                limit: max_bytes,
            });
        }
    }
    if compact.is_empty() {
        return Err(MediaError::Empty);
    }
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let bytes = engine
        .decode(&compact)
        .map_err(|e| MediaError::InvalidBase64 {
            detail: e.to_string(),
        })?;
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() as u64 > max_bytes {
        return Err(MediaError::TooLarge {
            bytes: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// Decoded size of base64 text, counting only alphabet characters.
fn estimate_decoded(body: &str) -> u64 {
    let symbols = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
        .count() as u64;
    symbols * 3 / 4
}

/// Reads a whole file, refusing it from its metadata (and again while reading, should it grow)
/// when it is larger than `max_bytes`.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, MediaError> {
    let io = |e: std::io::Error| MediaError::Io {
        detail: format!("{}: {e}", path.display()),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(MediaError::Io {
            detail: format!("{} is not a regular file", path.display()),
        });
    }
    if meta.len() > max_bytes {
        return Err(MediaError::TooLarge {
            bytes: meta.len(),
            limit: max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(MediaError::TooLarge {
            bytes: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prefixed_wrapped_and_url_safe() {
        let data = b"\xff\xfe\xfdhello world\x00\x01";
        let std = base64::engine::general_purpose::STANDARD.encode(data);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
        assert_eq!(decode_base64(&std, 100).unwrap(), data);
        assert_eq!(decode_base64(&url, 100).unwrap(), data);
        let wrapped = format!("data:video/mp4;base64,\r\n{}\n {}\n", &std[..8], &std[8..]);
        assert_eq!(decode_base64(&wrapped, 100).unwrap(), data);
        let upper = format!("DATA:image/png;BASE64,{std}");
        assert_eq!(decode_base64(&upper, 100).unwrap(), data);
    }

    #[test]
    fn refusals() {
        assert_eq!(decode_base64("", 10), Err(MediaError::Empty));
        assert_eq!(decode_base64("  \n", 10), Err(MediaError::Empty));
        assert_eq!(
            decode_base64("data:image/png;base64,", 10),
            Err(MediaError::Empty)
        );
        assert!(matches!(
            decode_base64("abc$", 10),
            Err(MediaError::InvalidBase64 { .. })
        ));
        assert!(matches!(
            decode_base64("data:image/png,abcd", 10),
            Err(MediaError::InvalidBase64 { .. })
        ));
        assert!(matches!(
            decode_base64("QUJD=QUJD", 10),
            Err(MediaError::InvalidBase64 { .. })
        ));
        let big = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 1000]);
        assert_eq!(
            decode_base64(&big, 999),
            Err(MediaError::TooLarge {
                bytes: 1000,
                limit: 999
            })
        );
        assert_eq!(decode_base64(&big, 1000).unwrap().len(), 1000);
    }
}
