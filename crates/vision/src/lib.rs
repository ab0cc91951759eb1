//! Vision: faces, landmarks, embeddings and model scores from RGB frames.
