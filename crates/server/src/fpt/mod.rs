//! FPT.AI Liveness v3: `POST /vision/ekyc/liveness`.

pub mod codes;
mod handler;
pub mod response;
pub mod v2;

pub use handler::liveness;
pub(crate) use handler::refuse;

#[cfg(test)]
mod tests;
