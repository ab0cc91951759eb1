pub mod analyze;
pub mod bench;
pub mod bench_media;
pub mod bench_models;
pub mod check;
pub mod compare;
pub mod models;
pub mod probe;
