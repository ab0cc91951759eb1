//! The silent API's media envelope: HPKE (RFC 9180) base mode, suite
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, to the tenant's X25519 key.
//!
//! Wire form of `encrypted_video` / `encrypted_image`: standard base64 of `enc || ciphertext`,
//! where `enc` is the 32-byte encapsulated key and `ciphertext` the AEAD output (tag included).
//! The `info` string names the field, so a video envelope cannot be replayed as the image; the
//! AAD is empty. ChaCha20-Poly1305 over AES-GCM: constant time without AES instructions, the
//! same in every client library.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR};
use zeroize::Zeroizing;

/// Length of the X25519 encapsulated key at the start of an envelope.
pub const ENC_LEN: usize = 32;
/// Length of the Poly1305 tag at the end.
pub const TAG_LEN: usize = 16;

/// RFC 9180 suite identifiers (KEM, KDF, AEAD), as published with the public key.
pub const SUITE: (u16, u16, u16) = (0x0020, 0x0001, 0x0003);

/// Which field an envelope carries: part of the HPKE `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Video,
    Image,
}

impl Field {
    pub fn info(self) -> &'static [u8] {
        match self {
            Field::Video => b"faceproof silent v1 video",
            Field::Image => b"faceproof silent v1 image",
        }
    }
}

/// Why an envelope did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the envelope is {len} bytes, shorter than the {min} bytes of key and tag")]
    TooShort { len: usize, min: usize },
    #[error("the envelope would hold {bytes} bytes of media, over the limit of {limit}")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("the encapsulated key is not a valid X25519 point")]
    BadKey,
    #[error("the envelope does not open with this tenant's key (wrong key, field or tampered)")]
    Open,
}

/// Opens one envelope with the tenant's private key.
pub fn open(
    private_key: &[u8; 32],
    field: Field,
    envelope: &[u8],
    max_plain: u64,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    if envelope.len() < ENC_LEN + TAG_LEN {
        return Err(EnvelopeError::TooShort {
            len: envelope.len(),
            min: ENC_LEN + TAG_LEN,
        });
    }
    let plain_len = (envelope.len() - ENC_LEN - TAG_LEN) as u64;
    if plain_len > max_plain {
        return Err(EnvelopeError::TooLarge {
            bytes: plain_len,
            limit: max_plain,
        });
    }
    let (enc, ct) = envelope.split_at(ENC_LEN);
    let sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(private_key)
        .map_err(|_| EnvelopeError::BadKey)?;
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| EnvelopeError::BadKey)?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &sk,
        &enc,
        field.info(),
        ct,
        b"",
    )
    .map(Zeroizing::new)
    .map_err(|_| EnvelopeError::Open)
}

/// Seals media the way a client does (tests and the documentation's examples).
pub fn seal(public_key: &[u8; 32], field: Field, plain: &[u8]) -> Vec<u8> {
    use hpke::Serializable;
    let pk = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(public_key)
        .expect("an X25519 public key is any 32 bytes");
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &hpke::OpModeS::Base,
        &pk,
        field.info(),
        plain,
        b"",
    )
    .expect("sealing to a valid key does not fail");
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    out
}

/// A fresh key pair (tests).
pub fn generate() -> ([u8; 32], [u8; 32]) {
    use hpke::Serializable;
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

    #[test]
    fn round_trip_and_refusals() {
        let (sk, pk) = generate();
        let env = seal(&pk, Field::Video, b"some video bytes");
        assert_eq!(env.len(), ENC_LEN + 16 + TAG_LEN);
        assert_eq!(
            &*open(&sk, Field::Video, &env, 1000).unwrap(),
            b"some video bytes"
        );
        // Field binding: a video envelope is not an image.
        assert_eq!(
            open(&sk, Field::Image, &env, 1000),
            Err(EnvelopeError::Open)
        );
        // Tampering.
        let mut bad = env.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            open(&sk, Field::Video, &bad, 1000),
            Err(EnvelopeError::Open)
        );
        // Another tenant's key.
        let (other, _) = generate();
        assert_eq!(
            open(&other, Field::Video, &env, 1000),
            Err(EnvelopeError::Open)
        );
        assert_eq!(
            open(&sk, Field::Video, &env[..40], 1000),
            Err(EnvelopeError::TooShort { len: 40, min: 48 })
        );
        assert_eq!(
            open(&sk, Field::Video, &env, 15),
            Err(EnvelopeError::TooLarge {
                bytes: 16,
                limit: 15
            })
        );
    }

    /// The store's X25519 keys (x25519-dalek clamped scalars) work as HPKE keys.
    #[test]
    fn rfc9180_x25519_key_format() {
        let (sk, pk) = generate();
        let sk2 = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&sk).unwrap();
        let pk2 = X25519HkdfSha256::sk_to_pk(&sk2);
        use hpke::Serializable;
        assert_eq!(pk2.to_bytes().as_slice(), &pk);
    }
}
