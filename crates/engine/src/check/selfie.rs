//! (in progress)
use super::{CheckError, CheckRequest, Engine, Verdict};
pub(super) fn check(_engine: &Engine, _req: &CheckRequest<'_>) -> Result<Verdict, CheckError> {
    Err(CheckError::Internal("in progress".into()))
}
