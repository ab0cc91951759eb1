//! A face template as the index holds it: int8 codes and one scale, so a 128-d embedding costs
//! 132 bytes instead of 512, and the dot product runs on integers.

/// Why an embedding cannot become a template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// Empty or with a non-finite component.
    #[error("embedding of {len} values has a non-finite component or is empty")]
    NotFinite { len: usize },
    /// All zeros (no face was embedded).
    #[error("embedding has zero length")]
    Zero,
    /// Not the dimension of the index it is meant for.
    #[error("embedding has {got} dimensions, the index holds {want}")]
    Dimension { got: usize, want: usize },
}

/// A unit-length embedding quantised to int8: `value[i] ~= codes[i] as f32 * step`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    codes: Vec<i8>,
    step: f32,
}

impl Template {
    /// Normalises `embedding` to unit length and quantises it with the largest component mapped
    /// to +-127 (the rounding error of each component is at most `step / 2`).
    pub fn quantise(embedding: &[f32]) -> Result<Template, TemplateError> {
        if embedding.is_empty() || embedding.iter().any(|v| !v.is_finite()) {
            return Err(TemplateError::NotFinite {
                len: embedding.len(),
            });
        }
        let norm = embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        let peak = embedding.iter().fold(0f32, |m, v| m.max(v.abs()));
        if norm == 0.0 || peak == 0.0 {
            return Err(TemplateError::Zero);
        }
        // Unit vector u = e / norm; its peak is peak / norm, mapped to 127.
        let step = peak / norm / 127.0;
        let scale = 1.0 / (norm * step);
        let codes = embedding
            .iter()
            .map(|v| (v * scale).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Ok(Template { codes, step })
    }

    /// Rebuilds a template from its parts (as the index stores them).
    pub fn from_parts(codes: Vec<i8>, step: f32) -> Template {
        Template { codes, step }
    }

    pub fn dim(&self) -> usize {
        self.codes.len()
    }

    pub fn codes(&self) -> &[i8] {
        &self.codes
    }

    /// The value of one code unit.
    pub fn step(&self) -> f32 {
        self.step
    }

    /// Approximate cosine with another template of the same dimension.
    pub fn cosine(&self, other: &Template) -> f32 {
        let dot = crate::kernel::dot(&self.codes, &other.codes);
        (dot as f32 * self.step * other.step).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(a: &[f32], b: &[f32]) -> f32 {
        let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (n(a) * n(b))
    }

    #[test]
    fn quantised_cosine_is_close_to_exact() {
        // A fixed pseudo-random sequence (xorshift): no test data needed for the arithmetic.
        let mut s = 0x9e37_79b9_u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        };
        let mut worst = 0f32;
        for _ in 0..200 {
            let a: Vec<f32> = (0..128).map(|_| next()).collect();
            let mut b: Vec<f32> = (0..128).map(|_| next()).collect();
            // Mix a into b so cosines span a useful range.
            for (x, y) in b.iter_mut().zip(&a) {
                *x += *y * 0.8;
            }
            let qa = Template::quantise(&a).unwrap();
            let qb = Template::quantise(&b).unwrap();
            worst = worst.max((qa.cosine(&qb) - exact(&a, &b)).abs());
        }
        assert!(worst < 0.01, "worst quantisation error {worst}");
        assert!(
            (Template::quantise(&[3.0, 4.0])
                .unwrap()
                .cosine(&Template::quantise(&[3.0, 4.0]).unwrap())
                - 1.0)
                .abs()
                < 0.01
        );
    }

    #[test]
    fn refuses_bad_embeddings() {
        assert_eq!(
            Template::quantise(&[]),
            Err(TemplateError::NotFinite { len: 0 })
        );
        assert_eq!(Template::quantise(&[0.0; 4]), Err(TemplateError::Zero));
        assert!(Template::quantise(&[1.0, f32::NAN]).is_err());
    }
}
