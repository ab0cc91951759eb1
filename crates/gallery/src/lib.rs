//! 1:N face search for faceproof: an in-memory index of face templates per tenant, searched by
//! brute force, and the false-accept correction from one comparison to a whole gallery.
//!
//! - [`Template`]: a unit-length embedding quantised to int8 with one scale (dim bytes + 4).
//! - [`Index`]: one list (enrolled identities, or the blocklist) of one tenant; contiguous codes,
//!   scanned with an int8 dot-product kernel the compiler vectorises (AVX2 when the CPU has it).
//! - [`Galleries`]: every tenant's two lists, so a search can never see another tenant's entries.
//! - [`far`]: `FAR_N = 1 - (1 - FAR_1)^N` and its inverse.
//!
//! The crate is pure (no I/O): the server loads it from the store, keeps it fresh, and turns a hit
//! into a reason code through the engine's verdict API. See `docs/gallery.md`.

pub mod bench;
pub mod far;
mod index;
mod kernel;
mod template;

pub use index::{EntryId, Galleries, Hit, Index, List, Search};
pub use template::{Template, TemplateError};
