//! Liveness and deepfake signals, each a pure function from per-frame measurements to a typed
//! report of what it measured. None of them decides alone: the calibrated fusion does.
//!
//! | module | evidence | catches | blind to |
//! |---|---|---|---|
//! | [`motion`] | non-rigid landmark change | still image re-encoded as video | a video replay of a live face |
//! | [`planarity`] | homography explains all motion | photo or screen moved by hand | a head held perfectly still |
//! | [`blink`] | eyelid closures of 60-400 ms | photos, masks without eye holes | replays of a blinking face |
//! | [`pulse`] | skin colour at the heart rate | prints, masks, some screens | good replays; dark or moving faces |
//! | [`screen`] | moire, gamut, glare on the crop | screens, glossy prints | high-resolution prints, far screens |
//! | [`jitter`] | incoherent landmark jitter | frame-wise face swaps | well-smoothed deepfakes |
//! | [`perspective`] | centre grows faster than contour, far to near | photo or screen brought closer | curved prints, masks |

pub mod blink;
pub mod jitter;
pub mod motion;
pub mod perspective;
pub mod planarity;
pub mod pulse;
pub mod screen;
