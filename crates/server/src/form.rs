//! Reading a multipart form with a byte limit per file field, without trusting the client's
//! declared sizes: bytes are counted as they arrive.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;

/// Why a form was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    /// The whole body is over the route's limit.
    #[error("the request body is over the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// One file field is over its own limit.
    #[error("field {field:?} is over its limit of {limit} bytes")]
    FieldTooLarge { field: String, limit: u64 },
    /// The same field twice.
    #[error("field {field:?} appears more than once")]
    Duplicate { field: String },
    /// A text field that is not UTF-8 or too long.
    #[error("field {field:?} is not a short text")]
    BadText { field: String },
    /// Not a multipart body, or broken framing.
    #[error("malformed multipart body: {detail}")]
    Malformed { detail: String },
}

/// Longest accepted short text field (timestamps, ids).
pub const SHORT_TEXT: u64 = 1024;

/// The fields that were read.
#[derive(Debug, Default)]
pub struct Form {
    pub files: HashMap<String, Vec<u8>>,
    pub texts: HashMap<String, String>,
}

fn from_multipart(e: MultipartError, body_limit: usize) -> FormError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        FormError::BodyTooLarge { limit: body_limit }
    } else {
        FormError::Malformed {
            detail: e.body_text(),
        }
    }
}

/// Reads `files` (name, byte limit) as bytes and `texts` (name, byte limit) as UTF-8 strings;
/// other fields are read and dropped (they still count against the body limit).
pub async fn read_form(
    mut mp: Multipart,
    files: &[(&str, u64)],
    texts: &[(&str, u64)],
    body_limit: usize,
) -> Result<Form, FormError> {
    let is_text = |name: &str| texts.iter().any(|(n, _)| *n == name);
    let mut form = Form::default();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| from_multipart(e, body_limit))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let limit = files
            .iter()
            .chain(texts.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, l)| *l);
        let mut buf = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| from_multipart(e, body_limit))?
        {
            if let Some(limit) = limit {
                if buf.len() as u64 + chunk.len() as u64 > limit {
                    if is_text(&name) {
                        return Err(FormError::BadText { field: name });
                    }
                    return Err(FormError::FieldTooLarge { field: name, limit });
                }
                buf.extend_from_slice(&chunk);
            }
        }
        if limit.is_none() {
            continue;
        }
        if form.files.contains_key(&name) || form.texts.contains_key(&name) {
            return Err(FormError::Duplicate { field: name });
        }
        if is_text(&name) {
            let text = String::from_utf8(buf).map_err(|_| FormError::BadText {
                field: name.clone(),
            })?;
            form.texts.insert(name, text);
        } else {
            form.files.insert(name, buf);
        }
    }
    Ok(form)
}
