//! Time-series processing for variable-frame-rate tracks: resampling, detrending, band-pass
//! filtering and spectra, local polynomial smoothing, and a noise estimate from second differences.

pub mod detrend;
pub mod noise;
pub mod resample;
pub mod smooth;
pub mod spectrum;
