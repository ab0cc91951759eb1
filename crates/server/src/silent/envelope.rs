//! The silent API's media envelopes (format v2): both media of one request sealed in ONE HPKE
//! (RFC 9180) context, base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
//! ChaCha20-Poly1305, to the tenant's X25519 key, with the sealing time in the AAD.
//!
//! Wire form (standard base64 of the bytes):
//! - `encrypted_video` = `header || enc || Seal(video)` — the context's first message;
//! - `encrypted_image` = `Seal(image)` — the same context's second message;
//!
//! where `header` = `0x02 || sealed_at` (Unix milliseconds, u64 big-endian; 9 bytes) is also the
//! AAD of both messages, `enc` the 32-byte encapsulated key, and each `Seal` output ends with its
//! 16-byte tag. Why: the image opens only in the video's context (a video captured from one
//! request cannot be paired with an image sealed for another), the order is fixed by the
//! context's sequence numbers (the two cannot be swapped), the time cannot be altered, and `enc`
//! names the pair for replay refusal (`replay.rs`). Format v1 (two independent envelopes, empty
//! AAD) is refused: the seed leaves the encryption to the implementer, so nothing requires it.
//! ChaCha20-Poly1305 over AES-GCM: constant time without AES instructions, the same in every
//! client library.

use hpke::aead::{AeadCtxR, ChaCha20Poly1305};
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, Serializable};
use zeroize::Zeroizing;

/// Length of the X25519 encapsulated key.
pub const ENC_LEN: usize = 32;
/// Length of the Poly1305 tag at the end of each sealed message.
pub const TAG_LEN: usize = 16;
/// Format version, the header's first byte.
pub const VERSION: u8 = 2;
/// `VERSION || sealed_at`.
pub const HEADER_LEN: usize = 9;
/// What `encrypted_video` holds besides the sealed video.
pub const VIDEO_OVERHEAD: usize = HEADER_LEN + ENC_LEN + TAG_LEN;
/// HPKE `info` of the request's context.
pub const INFO: &[u8] = b"faceproof silent v2";

/// RFC 9180 suite identifiers (KEM, KDF, AEAD), as published with the public key.
pub const SUITE: (u16, u16, u16) = (0x0020, 0x0001, 0x0003);

type Receiver = AeadCtxR<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>;

/// Why an envelope did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the envelope is {len} bytes, shorter than the {min} bytes of its framing")]
    TooShort { len: usize, min: usize },
    #[error("the envelope would hold {bytes} bytes of media, over the limit of {limit}")]
    TooLarge { bytes: u64, limit: u64 },
    #[error(
        "envelope format {found} is not supported: seal both media in one HPKE context (format 2, docs/api-silent.md)"
    )]
    Version { found: u8 },
    #[error("the encapsulated key is not a valid X25519 point")]
    BadKey,
    #[error(
        "the envelope does not open with this tenant's key (wrong key, not sealed with this request's other envelope, swapped or tampered)"
    )]
    Open,
    #[error(
        "sealed at {sealed_at_ms}, {skew_secs} s away from the server's clock (window {window_secs} s)"
    )]
    Stale {
        sealed_at_ms: i64,
        skew_secs: i64,
        window_secs: u64,
    },
}

/// Which envelope of the pair failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Video,
    Image,
}

/// The opened pair.
pub struct Opened {
    pub video: Zeroizing<Vec<u8>>,
    pub image: Zeroizing<Vec<u8>>,
    /// When the client sealed the pair (authenticated by the AAD).
    pub sealed_at_ms: i64,
    /// The encapsulated key: unique per sealed pair, the replay store's key.
    pub enc: [u8; ENC_LEN],
}

fn sized(body: &[u8], overhead: usize, limit: u64) -> Result<(), EnvelopeError> {
    if body.len() < overhead {
        return Err(EnvelopeError::TooShort {
            len: body.len(),
            min: overhead,
        });
    }
    let bytes = (body.len() - overhead) as u64;
    if bytes > limit {
        return Err(EnvelopeError::TooLarge { bytes, limit });
    }
    Ok(())
}

/// Opens the two envelopes of one request with the tenant's private key. The sealing time is
/// returned, not judged: the caller compares it with its clock.
pub fn open_pair(
    private_key: &[u8; 32],
    video: &[u8],
    image: &[u8],
    max_video: u64,
    max_image: u64,
) -> Result<Opened, (Which, EnvelopeError)> {
    let v = |e| (Which::Video, e);
    sized(video, VIDEO_OVERHEAD, max_video).map_err(v)?;
    sized(image, TAG_LEN, max_image).map_err(|e| (Which::Image, e))?;
    let (header, rest) = video.split_at(HEADER_LEN);
    if header[0] != VERSION {
        return Err(v(EnvelopeError::Version { found: header[0] }));
    }
    let mut at = [0u8; 8];
    at.copy_from_slice(&header[1..]);
    let sealed_at_ms = i64::try_from(u64::from_be_bytes(at)).unwrap_or(i64::MAX);
    let (enc_bytes, video_ct) = rest.split_at(ENC_LEN);
    let sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(private_key)
        .map_err(|_| v(EnvelopeError::BadKey))?;
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc_bytes)
        .map_err(|_| v(EnvelopeError::BadKey))?;
    let mut ctx: Receiver = hpke::setup_receiver(&OpModeR::Base, &sk, &enc, INFO)
        .map_err(|_| v(EnvelopeError::Open))?;
    let video = Zeroizing::new(
        ctx.open(video_ct, header)
            .map_err(|_| v(EnvelopeError::Open))?,
    );
    let image = Zeroizing::new(
        ctx.open(image, header)
            .map_err(|_| (Which::Image, EnvelopeError::Open))?,
    );
    let mut enc_out = [0u8; ENC_LEN];
    enc_out.copy_from_slice(enc_bytes);
    Ok(Opened {
        video,
        image,
        sealed_at_ms,
        enc: enc_out,
    })
}

/// Refuses a pair sealed more than `window_secs` away from `now_ms` (either way: clocks drift).
pub fn check_time(sealed_at_ms: i64, now_ms: i64, window_secs: u64) -> Result<(), EnvelopeError> {
    let skew_ms = now_ms.saturating_sub(sealed_at_ms);
    if skew_ms.unsigned_abs() > window_secs.saturating_mul(1000) {
        return Err(EnvelopeError::Stale {
            sealed_at_ms,
            skew_secs: skew_ms / 1000,
            window_secs,
        });
    }
    Ok(())
}

/// Seals a pair the way a client does (tests and the documentation's examples).
pub fn seal_pair(
    public_key: &[u8; 32],
    sealed_at_ms: i64,
    video: &[u8],
    image: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let pk = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(public_key)
        .expect("an X25519 public key is any 32 bytes");
    let (enc, mut ctx) = hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &hpke::OpModeS::Base,
        &pk,
        INFO,
    )
    .expect("sealing to a valid key does not fail");
    let mut header = vec![VERSION];
    header.extend_from_slice(&(sealed_at_ms.max(0) as u64).to_be_bytes());
    let video_ct = ctx.seal(video, &header).expect("first message");
    let image_ct = ctx.seal(image, &header).expect("second message");
    let mut v = header;
    v.extend_from_slice(&enc.to_bytes());
    v.extend_from_slice(&video_ct);
    (v, image_ct)
}

/// A fresh key pair (tests).
pub fn generate() -> ([u8; 32], [u8; 32]) {
    let (sk, pk) = X25519HkdfSha256::gen_keypair();
    let mut s = [0u8; 32];
    let mut p = [0u8; 32];
    s.copy_from_slice(&sk.to_bytes());
    p.copy_from_slice(&pk.to_bytes());
    (s, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_760_000_000_000;

    #[test]
    fn round_trip_and_refusals() {
        let (sk, pk) = generate();
        let (v, i) = seal_pair(&pk, T, b"some video bytes", b"an image");
        assert_eq!(v.len(), VIDEO_OVERHEAD + 16);
        assert_eq!(i.len(), 8 + TAG_LEN);
        let o = open_pair(&sk, &v, &i, 1000, 1000).unwrap();
        assert_eq!(
            (&o.video[..], &o.image[..]),
            (&b"some video bytes"[..], &b"an image"[..])
        );
        assert_eq!(o.sealed_at_ms, T);
        assert_eq!(&o.enc[..], &v[HEADER_LEN..HEADER_LEN + ENC_LEN]);
        let err = |r: Result<Opened, (Which, EnvelopeError)>| r.err().unwrap();
        // Another request's image does not open in this request's context.
        let (_, other_image) = seal_pair(&pk, T, b"some video bytes", b"an image");
        assert_eq!(
            err(open_pair(&sk, &v, &other_image, 1000, 1000)),
            (Which::Image, EnvelopeError::Open)
        );
        // The time is authenticated.
        let mut moved = v.clone();
        moved[8] ^= 1;
        assert_eq!(
            err(open_pair(&sk, &moved, &i, 1000, 1000)),
            (Which::Video, EnvelopeError::Open)
        );
        // Tampering, another tenant's key, the old format, the limits.
        let mut bad = i.clone();
        bad[0] ^= 1;
        assert_eq!(
            err(open_pair(&sk, &v, &bad, 1000, 1000)),
            (Which::Image, EnvelopeError::Open)
        );
        let (other, _) = generate();
        assert_eq!(
            err(open_pair(&other, &v, &i, 1000, 1000)),
            (Which::Video, EnvelopeError::Open)
        );
        let mut v1 = v.clone();
        v1[0] = 1;
        assert_eq!(
            err(open_pair(&sk, &v1, &i, 1000, 1000)),
            (Which::Video, EnvelopeError::Version { found: 1 })
        );
        assert_eq!(
            err(open_pair(&sk, &v[..40], &i, 1000, 1000)),
            (Which::Video, EnvelopeError::TooShort { len: 40, min: 57 })
        );
        assert_eq!(
            err(open_pair(&sk, &v, &i, 15, 1000)),
            (
                Which::Video,
                EnvelopeError::TooLarge {
                    bytes: 16,
                    limit: 15
                }
            )
        );
    }

    #[test]
    fn the_window_holds_both_ways() {
        assert!(check_time(T, T + 299_000, 300).is_ok());
        assert!(check_time(T, T - 299_000, 300).is_ok());
        assert!(matches!(
            check_time(T, T + 301_000, 300),
            Err(EnvelopeError::Stale { skew_secs: 301, .. })
        ));
        assert!(check_time(T, T - 301_000, 300).is_err());
    }

    /// The store's X25519 keys (x25519-dalek clamped scalars) work as HPKE keys.
    #[test]
    fn rfc9180_x25519_key_format() {
        let (sk, pk) = generate();
        let sk2 = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&sk).unwrap();
        let pk2 = X25519HkdfSha256::sk_to_pk(&sk2);
        assert_eq!(pk2.to_bytes().as_slice(), &pk);
    }
}
