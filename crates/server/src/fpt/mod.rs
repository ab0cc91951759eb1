//! FPT.AI Liveness v3: `POST /vision/ekyc/liveness`.

pub mod codes;
mod handler;
pub mod refusal;
mod reply;
pub mod response;
pub mod v2;

pub use handler::liveness;
pub use refusal::FptRefusal;

#[cfg(test)]
mod tests;
