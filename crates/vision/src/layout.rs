//! Which points of the 468-point face mesh each signal reads.
//!
//! The signals' functions take plain index lists so any landmark model can feed them; these
//! constants are the defaults for the mesh the vision layer runs. "Image-left" is the eye on the
//! left of an unmirrored frame (the subject's right eye). The wiring step must confirm every list
//! by drawing it on a real frame before relying on it; the eyelid lists must also be in the same
//! order as the iris model's refined contour if that replaces the mesh's lids.

/// Outer and inner corner of the image-left eye.
pub const IMAGE_LEFT_EYE_CORNERS: [usize; 2] = [33, 133];
/// Inner and outer corner of the image-right eye.
pub const IMAGE_RIGHT_EYE_CORNERS: [usize; 2] = [362, 263];

/// Image-left eye, upper lid from the outer corner (33) to the inner corner (133).
pub const IMAGE_LEFT_UPPER_LID: [usize; 7] = [246, 161, 160, 159, 158, 157, 173];
/// Image-left eye, lower lid in the same order, so `UPPER[k]` faces `LOWER[k]`.
pub const IMAGE_LEFT_LOWER_LID: [usize; 7] = [7, 163, 144, 145, 153, 154, 155];
/// Image-right eye, upper lid from the inner corner (362) to the outer corner (263).
pub const IMAGE_RIGHT_UPPER_LID: [usize; 7] = [398, 384, 385, 386, 387, 388, 466];
/// Image-right eye, lower lid in the same order.
pub const IMAGE_RIGHT_LOWER_LID: [usize; 7] = [382, 381, 380, 374, 373, 390, 249];

/// The face oval, clockwise from the top of the forehead: the "contour" region for jitter.
pub const FACE_OVAL: [usize; 36] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];

/// Nose ridge and tip: the points that move most against the cheeks when the head turns.
pub const NOSE: [usize; 10] = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2];
/// Outer lip contour; mouth corners are 61 and 291.
pub const LIPS_OUTER: [usize; 20] = [
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];

/// Forehead skin patch (polygon) for the pulse: above the brows, below the hairline.
pub const FOREHEAD: [usize; 8] = [109, 10, 338, 337, 336, 9, 107, 108];
/// Image-left cheek skin patch (polygon) for the pulse, below the eye and beside the nose.
pub const IMAGE_LEFT_CHEEK: [usize; 6] = [117, 118, 101, 36, 205, 187];
/// Image-right cheek skin patch (polygon) for the pulse.
pub const IMAGE_RIGHT_CHEEK: [usize; 6] = [346, 347, 330, 266, 425, 411];

/// The lower face (polygon): along the jaw from below the image-left ear round the chin to below
/// the image-right ear, closed through the base of the nose (2). Mouth, chin and lower cheeks: what
/// a mask or a hand over the mouth covers.
pub const LOWER_FACE: [usize; 18] = [
    132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 2,
];

/// The "inner face" region for jitter: eyes, nose and lips, where a face swap is generated.
pub fn inner_face() -> Vec<usize> {
    IMAGE_LEFT_EYE_CORNERS
        .iter()
        .chain(&IMAGE_RIGHT_EYE_CORNERS)
        .chain(&IMAGE_LEFT_UPPER_LID)
        .chain(&IMAGE_LEFT_LOWER_LID)
        .chain(&IMAGE_RIGHT_UPPER_LID)
        .chain(&IMAGE_RIGHT_LOWER_LID)
        .chain(&NOSE)
        .chain(&LIPS_OUTER)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_within_the_mesh_and_disjoint() {
        let inner = inner_face();
        assert!(inner.iter().chain(&FACE_OVAL).all(|&i| i < 468));
        assert!(inner.iter().all(|i| !FACE_OVAL.contains(i)));
        let mut sorted = inner.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), inner.len(), "a point is listed twice");
    }
}
