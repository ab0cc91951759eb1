//! Numeric building blocks over the field's crates: statistics (`statrs`, plus the R-7 quantile
//! the calibrations were fitted with), the normal distribution (`libm`'s erfc, `statrs`'
//! erfc_inv), small dense solves (`nalgebra`) and the FFT (`rustfft`). Each module says what it
//! keeps of its own and why.

pub mod fft;
pub mod linalg;
pub mod normal;
pub mod stats;
