//! Key material and the few primitives the store needs: random ids and secrets, SHA-256, HMAC-SHA256,
//! ChaCha20-Poly1305 sealing of secrets at rest, and the master key file.
//!
//! Every key in use is derived from the one master key with HMAC-SHA256 and a purpose label, so a
//! signed URL key can never decrypt a tenant secret and vice versa.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::config::MasterKeyConfig;
use crate::error::{BackendOp, Result, StoreError};

type HmacSha256 = Hmac<Sha256>;

/// Version tag of sealed values; a future key rotation adds another.
const SEAL_PREFIX: &str = "v1.";

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS generator failing is not recoverable and does not happen on supported systems.
    getrandom::fill(&mut out).expect("operating system random generator failed");
    out
}

/// 128-bit random id in UUID text form (version 4 layout), as the vendor APIs show ids.
pub(crate) fn new_id() -> String {
    let mut b: [u8; 16] = random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_text(u128::from_be_bytes(b))
}

/// A 128-bit value in UUID text form (8-4-4-4-12 lowercase hex digits), as every store id is.
pub fn uuid_text(v: u128) -> String {
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `prefix` + 32 random bytes in URL-safe base64: an API key or secret shown once.
pub(crate) fn new_token(prefix: &str, bytes: usize) -> Zeroizing<String> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    getrandom::fill(&mut raw).expect("operating system random generator failed");
    Zeroizing::new(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&*raw)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn unb64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// HMAC-SHA256 over length-prefixed fields, so ("ab","c") and ("a","bc") never collide.
pub(crate) fn mac_fields(key: &[u8; 32], fields: &[&[u8]]) -> [u8; 32] {
    fields_mac(key, fields).finalize().into_bytes().into()
}

/// Constant-time check of a tag made by [`mac_fields`].
pub(crate) fn verify_fields(key: &[u8; 32], fields: &[&[u8]], tag: &[u8]) -> bool {
    fields_mac(key, fields).verify_slice(tag).is_ok()
}

fn fields_mac(key: &[u8; 32], fields: &[&[u8]]) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for f in fields {
        mac.update(&(f.len() as u64).to_be_bytes());
        mac.update(f);
    }
    mac
}

/// Constant-time HMAC-SHA256 check with a raw key (a tenant's access secret).
pub(crate) fn verify_hmac(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

/// X25519 key pair: (private, public).
pub(crate) fn x25519_keypair() -> (Zeroizing<[u8; 32]>, [u8; 32]) {
    let secret = x25519_dalek::StaticSecret::from(random::<32>());
    let public = x25519_dalek::PublicKey::from(&secret);
    (Zeroizing::new(secret.to_bytes()), public.to_bytes())
}

pub(crate) fn x25519_public(private: &[u8; 32]) -> [u8; 32] {
    let secret = x25519_dalek::StaticSecret::from(*private);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

/// Keys derived from the master key, one per purpose.
pub(crate) struct Keys {
    seal: Zeroizing<[u8; 32]>,
    url: Zeroizing<[u8; 32]>,
    token: Zeroizing<[u8; 32]>,
}

impl Keys {
    pub(crate) fn derive(master: &[u8; 32]) -> Self {
        let derive = |label: &str| Zeroizing::new(mac_fields(master, &[label.as_bytes()]));
        Keys {
            seal: derive("faceproof/store/v1/seal-secrets"),
            url: derive("faceproof/store/v1/signed-url"),
            token: derive("faceproof/store/v1/access-token"),
        }
    }

    pub(crate) fn url_key(&self) -> &[u8; 32] {
        &self.url
    }

    pub(crate) fn token_key(&self) -> &[u8; 32] {
        &self.token
    }

    /// ChaCha20-Poly1305 with a random nonce; `aad` binds the ciphertext to its row so that a sealed
    /// value copied to another row or tenant does not open.
    pub(crate) fn seal(&self, plain: &[u8], aad: &[u8]) -> String {
        let cipher = ChaCha20Poly1305::new_from_slice(&*self.seal).expect("32-byte key");
        let nonce_bytes: [u8; 12] = random();
        let ct = cipher
            .encrypt(&Nonce::from(nonce_bytes), Payload { msg: plain, aad })
            .expect("ChaCha20-Poly1305 encryption of a small buffer cannot fail");
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        format!("{SEAL_PREFIX}{}", b64url(&out))
    }

    pub(crate) fn open(&self, sealed: &str, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let raw = sealed
            .strip_prefix(SEAL_PREFIX)
            .and_then(unb64url)
            .filter(|r| r.len() > 12)
            .ok_or_else(|| StoreError::corrupt("sealed secret is not in v1 format"))?;
        let cipher = ChaCha20Poly1305::new_from_slice(&*self.seal).expect("32-byte key");
        let nonce: [u8; 12] = raw[..12].try_into().expect("length checked");
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &raw[12..],
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                StoreError::corrupt(
                    "sealed secret does not open with this master key (wrong key or tampered row)",
                )
            })
    }
}

/// Loads the master key: the environment variable if set, else the file, else (if allowed)
/// generates the file with mode 0600. Returns the key and whether it was generated now.
pub(crate) fn load_master_key(cfg: &MasterKeyConfig) -> Result<(Zeroizing<[u8; 32]>, bool)> {
    if let Some(var) = cfg.env.as_deref()
        && let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty())
    {
        let value = Zeroizing::new(value.to_string_lossy().into_owned());
        let key = parse_key(&value).ok_or_else(|| StoreError::Config {
            reason: format!("master key variable {var} is not 64 hex characters"),
        })?;
        return Ok((key, false));
    }
    match fs::read_to_string(&cfg.file) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            check_private(&cfg.file)?;
            let key = parse_key(&text).ok_or_else(|| StoreError::Config {
                reason: format!(
                    "master key file {} is not 64 hex characters",
                    cfg.file.display()
                ),
            })?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && cfg.generate => {
            let key = Zeroizing::new(random::<32>());
            write_private(&cfg.file, &key)?;
            // Another process may have won the race to create it: read back what is on disk.
            match write_outcome(&cfg.file, &key)? {
                Some(theirs) => Ok((theirs, false)),
                None => Ok((key, true)),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::Config {
            reason: format!(
                "master key file {} is missing and generation is disabled",
                cfg.file.display()
            ),
        }),
        Err(e) => Err(StoreError::backend("read master key", e)),
    }
}

pub(crate) fn parse_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let mut bytes = Zeroizing::new(unhex(text.trim())?);
    let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
    bytes.zeroize();
    Some(Zeroizing::new(key))
}

#[cfg(unix)]
pub(crate) fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .op("stat master key")?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::Config {
            reason: format!(
                "master key file {} has mode {:o}: it must not be readable by group or others (chmod 600)",
                path.display(),
                mode & 0o777
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

/// Creates the key file exclusively (never overwrites) with mode 0600 from the start.
fn write_private(path: &Path, key: &[u8; 32]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).op("create master key directory")?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            let text = Zeroizing::new(format!("{}\n", hex(key)));
            f.write_all(text.as_bytes()).op("write master key")?;
            f.sync_all().op("sync master key")?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::backend("create master key", e)),
    }
}

/// `None` when the file holds our key, `Some(their key)` when a concurrent start wrote first.
fn write_outcome(path: &Path, ours: &[u8; 32]) -> Result<Option<Zeroizing<[u8; 32]>>> {
    // A concurrent start may have created the file and not written it yet: wait briefly.
    let mut text = Zeroizing::new(fs::read_to_string(path).op("read master key")?);
    for _ in 0..40 {
        if !text.trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        text = Zeroizing::new(fs::read_to_string(path).op("read master key")?);
    }
    let on_disk = parse_key(&text).ok_or_else(|| StoreError::Config {
        reason: format!(
            "master key file {} is not 64 hex characters",
            path.display()
        ),
    })?;
    Ok((*on_disk != *ours).then_some(on_disk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let keys = Keys::derive(&[7u8; 32]);
        let sealed = keys.seal(b"top secret", b"row-1");
        assert!(!sealed.contains("top secret"));
        assert_eq!(&**keys.open(&sealed, b"row-1").unwrap(), b"top secret");
        // Another row's associated data, another master key, or a flipped bit: refused.
        assert!(keys.open(&sealed, b"row-2").is_err());
        assert!(Keys::derive(&[8u8; 32]).open(&sealed, b"row-1").is_err());
        let mut raw = unb64url(&sealed[3..]).unwrap();
        raw[15] ^= 1;
        assert!(
            keys.open(&format!("v1.{}", b64url(&raw)), b"row-1")
                .is_err()
        );
        // Two seals of the same value differ (random nonce).
        assert_ne!(sealed, keys.seal(b"top secret", b"row-1"));
    }

    #[test]
    fn field_mac_is_unambiguous() {
        let k = [1u8; 32];
        assert_ne!(
            mac_fields(&k, &[b"ab", b"c"]),
            mac_fields(&k, &[b"a", b"bc"])
        );
        let tag = mac_fields(&k, &[b"x"]);
        assert!(verify_fields(&k, &[b"x"], &tag));
        assert!(!verify_fields(&k, &[b"y"], &tag));
        assert!(!verify_fields(&k, &[b"x"], &tag[..31]));
    }

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let a = new_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_id());
    }

    #[test]
    fn x25519_public_matches_generation() {
        let (private, public) = x25519_keypair();
        assert_eq!(x25519_public(&private), public);
    }

    #[test]
    fn hex_round_trip() {
        let bytes = random::<32>();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }
}
