pub mod analyze;
pub mod bench;
pub mod compare;
pub mod models;
pub mod probe;
