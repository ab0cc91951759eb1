//! The two media of a silent request: an envelope pair (format v2, `envelope.rs`), or plain
//! base64 when the tenant allows it; never one of each. A pair is judged once: its sealing
//! time must be within `[server] silent_envelope_window_secs` of the server's clock, and its first
//! use is recorded in the store (shared by every replica) until the window has passed, so a
//! replay is refused.

use faceproof_store::{StoreError, TenantStore};

use super::envelope::{self, Which};
use crate::refused::{Input, Refused};

/// The request's media fields, as sent.
pub struct Fields<'a> {
    pub encrypted_video: Option<&'a str>,
    pub encrypted_image: Option<&'a str>,
    pub video: Option<&'a str>,
    pub image: Option<&'a str>,
}

/// What the request carried, opened.
pub struct Media {
    pub video: Vec<u8>,
    pub image: Vec<u8>,
    /// The pair's encapsulated key and the end of its window (Unix ms): until then a second use
    /// is a replay. `None` for plain media.
    pub sealed: Option<([u8; envelope::ENC_LEN], i64)>,
}

fn input(which: Which) -> Input {
    match which {
        Which::Video => Input::Video,
        Which::Image => Input::IdPhoto,
    }
}

fn decode(input: Input, text: &str, limit: u64) -> Result<Vec<u8>, Refused> {
    faceproof_media::decode_base64(text, limit).map_err(|e| Refused::media(input, e))
}

/// Opens the request's media. `key` is the tenant's HPKE private key (needed for envelopes).
pub fn open(
    f: &Fields<'_>,
    allow_plain: bool,
    key: Option<&[u8; 32]>,
    max_video: u64,
    max_image: u64,
    now_ms: i64,
    window_secs: u64,
) -> Result<Media, Refused> {
    for (name, enc, plain) in [
        ("video", f.encrypted_video, f.video),
        ("image", f.encrypted_image, f.image),
    ] {
        match (enc, plain) {
            (Some(_), Some(_)) => {
                return Err(Refused::Invalid(format!(
                    "send either encrypted_{name} or {name}, not both"
                )));
            }
            (None, Some(_)) if !allow_plain => {
                return Err(Refused::Invalid(format!(
                    "plain {name} is not enabled for this tenant: send encrypted_{name}"
                )));
            }
            (None, None) => {
                return Err(Refused::Invalid(format!("encrypted_{name} is required")));
            }
            _ => {}
        }
    }
    match (f.encrypted_video, f.encrypted_image, f.video, f.image) {
        (Some(v), Some(i), _, _) => {
            let key = key.ok_or_else(|| Refused::Internal("no tenant key".into()))?;
            let v = decode(Input::Video, v, max_video + envelope::VIDEO_OVERHEAD as u64)?;
            let i = decode(Input::IdPhoto, i, max_image + envelope::TAG_LEN as u64)?;
            let opened = envelope::open_pair(key, &v, &i, max_video, max_image).map_err(
                |(which, error)| Refused::Envelope {
                    input: input(which),
                    error,
                },
            )?;
            envelope::check_time(opened.sealed_at_ms, now_ms, window_secs).map_err(|error| {
                Refused::Envelope {
                    input: Input::Video,
                    error,
                }
            })?;
            Ok(Media {
                video: opened.video.to_vec(),
                image: opened.image.to_vec(),
                sealed: Some((
                    opened.enc,
                    opened.sealed_at_ms.saturating_add(
                        i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
                    ),
                )),
            })
        }
        (_, _, Some(v), Some(i)) => Ok(Media {
            video: decode(Input::Video, v, max_video)?,
            image: decode(Input::IdPhoto, i, max_image)?,
            sealed: None,
        }),
        // One sealed, one plain: nothing binds them to each other.
        _ => Err(Refused::Invalid(
            "send both media sealed together (encrypted_video and encrypted_image) or both plain"
                .into(),
        )),
    }
}

/// Records the pair's first use; a pair seen within its window is [`Refused::Replayed`].
pub async fn first_use(tenant: &TenantStore, media: &Media) -> Result<(), Refused> {
    let Some((enc, until)) = media.sealed else {
        return Ok(());
    };
    match tenant.first_use(&enc, until).await {
        Ok(()) => Ok(()),
        Err(StoreError::Consumed { consumed_at_ms, .. }) => Err(Refused::Replayed {
            first_seen_ms: consumed_at_ms,
        }),
        Err(e) => Err(e.into()),
    }
}
