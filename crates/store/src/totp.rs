//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), as authenticator apps compute
//! them: HMAC-SHA1, 30 s steps, 6 digits. The secret travels as RFC 4648 base32 (an `otpauth://`
//! URI). SHA-256 and SHA-512 exist only so the RFC's own test vectors can be checked.

use hmac::{Hmac, Mac};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that are still accepted (clock drift between phone and server).
pub const SKEW_STEPS: i64 = 1;

/// The HMAC of a HOTP computation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Alg {
    Sha1,
    #[cfg_attr(not(test), allow(dead_code))]
    Sha256,
    #[cfg_attr(not(test), allow(dead_code))]
    Sha512,
}

fn mac(alg: Alg, key: &[u8], msg: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        Alg::Sha1 => run::<Hmac<sha1::Sha1>>(key, msg),
        Alg::Sha256 => run::<Hmac<sha2::Sha256>>(key, msg),
        Alg::Sha512 => run::<Hmac<sha2::Sha512>>(key, msg),
    }
}

/// RFC 4226 HOTP: dynamic truncation of HMAC(key, counter) to `digits` decimal digits.
pub(crate) fn hotp(alg: Alg, key: &[u8], counter: u64, digits: u32) -> u32 {
    let h = mac(alg, key, &counter.to_be_bytes());
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// The time step of a Unix time in seconds.
pub(crate) fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// Verifies a 6-digit code against steps `now - SKEW .. now + SKEW`; returns the matching step.
/// Only steps after `last_step` count, so a code is accepted once.
pub(crate) fn verify(
    key: &[u8],
    code: &str,
    unix_secs: i64,
    last_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = step_of(unix_secs);
    (now - SKEW_STEPS..=now + SKEW_STEPS)
        .filter(|s| *s >= 0 && last_step.is_none_or(|l| *s > l))
        .find(|s| hotp(Alg::Sha1, key, *s as u64, DIGITS) == want)
}

/// The 6-digit code of a base32 key at a Unix time (what an authenticator app shows).
pub fn code_at(secret_base32: &str, unix_secs: i64) -> Option<String> {
    let key = unbase32(secret_base32)?;
    let step = u64::try_from(step_of(unix_secs)).ok()?;
    Some(format!("{:06}", hotp(Alg::Sha1, &key, step, DIGITS)))
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Inverse of [`base32`] (case-insensitive, padding and spaces ignored).
pub fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = B32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the seeds and the 8-digit codes at each time, for each HMAC.
    #[test]
    fn rfc6238_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let table: [(i64, u32, u32, u32); 6] = [
            (59, 94287082, 46119246, 90693936),
            (1111111109, 7081804, 68084774, 25091201),
            (1111111111, 14050471, 67062674, 99943326),
            (1234567890, 89005924, 91819424, 93441116),
            (2000000000, 69279037, 90698825, 38618901),
            (20000000000, 65353130, 77737706, 47863826),
        ];
        for (t, c1, c256, c512) in table {
            let step = step_of(t) as u64;
            assert_eq!(hotp(Alg::Sha1, &sha1, step, 8), c1, "SHA1 at {t}");
            assert_eq!(hotp(Alg::Sha256, &sha256, step, 8), c256, "SHA256 at {t}");
            assert_eq!(hotp(Alg::Sha512, &sha512, step, 8), c512, "SHA512 at {t}");
        }
    }

    /// RFC 4226 appendix D: HOTP values for counters 0..9.
    #[test]
    fn rfc4226_vectors() {
        let key = b"12345678901234567890";
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(Alg::Sha1, key, i as u64, 6), *w, "counter {i}");
        }
    }

    #[test]
    fn verify_window_and_single_use() {
        let key = b"12345678901234567890";
        // 6-digit SHA1 code at T=59 is the last 6 digits of 94287082.
        assert_eq!(verify(key, "287082", 59, None), Some(1));
        assert_eq!(
            verify(key, "287082", 59 + 30, None),
            Some(1),
            "one step late"
        );
        assert_eq!(
            verify(key, "287082", 59 + 90, None),
            None,
            "three steps late"
        );
        assert_eq!(verify(key, "287082", 59, Some(1)), None, "already used");
        assert_eq!(verify(key, "28708", 59, None), None);
        assert_eq!(verify(key, "28708a", 59, None), None);
    }

    #[test]
    fn base32_round_trip() {
        // RFC 4648 section 10.
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(unbase32("mzxw6ytboi").unwrap(), b"foobar");
        assert_eq!(unbase32("MZXW6YQ=").unwrap(), b"foob");
        assert!(unbase32("MZ1").is_none());
    }
}
