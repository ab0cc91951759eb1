//! Small numeric building blocks written here instead of pulled in as crates: robust statistics,
//! the normal distribution, dense linear algebra for 3x3 to 9x9 systems, and a radix-2 FFT.

pub mod fft;
pub mod linalg;
pub mod normal;
pub mod stats;
