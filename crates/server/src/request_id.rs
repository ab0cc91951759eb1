//! A request id on every request and response (`X-Request-Id`), reused as the silent API's
//! `request_id` and ADVANCE's `transactionId`.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (an extension set by [`middleware`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// 16 random hex digits: short like ADVANCE's transaction ids, unique enough per deployment.
pub fn new_id() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("operating system random generator failed");
    hex::encode(b)
}

/// A caller's own id is kept when it is short and plain (so it can be correlated with the
/// caller's logs); anything else is replaced rather than echoed into our logs and bodies.
fn acceptable(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let a = new_id();
        assert_eq!(a.len(), 16);
        assert_ne!(a, new_id());
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable("a b"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
    }
}
