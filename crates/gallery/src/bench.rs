//! Search latency on synthetic templates (`faceproof bench gallery`): random unit vectors, which
//! cost the scan exactly what real templates cost (brute force reads every row whatever it holds).

use std::time::Instant;

use crate::index::Index;
use crate::template::Template;

/// One gallery size's measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub templates: usize,
    pub searches: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Heap bytes of the index per template (codes, scale, id, a 12-character reference, slot map).
    pub bytes_per_template: f64,
    pub build_ms: f64,
}

/// Xorshift64*: reproducible synthetic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    fn template(&mut self, dim: usize) -> Template {
        let v: Vec<f32> = (0..dim).map(|_| self.next()).collect();
        Template::quantise(&v).expect("random vectors are finite and non-zero")
    }
}

/// Builds an index of `templates` random entries of `dim` dimensions (each with a 12-character
/// external reference) and times `searches` searches of random probes.
pub fn run(templates: usize, dim: usize, searches: usize, seed: u64) -> Measure {
    let mut rng = Rng(seed | 1);
    let t = Instant::now();
    let mut idx = Index::new(dim);
    idx.reserve(templates);
    for i in 0..templates {
        let r = format!("ref-{i:08}");
        idx.upsert(i as u128, Some(&r), &rng.template(dim))
            .expect("same dimension");
    }
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut times: Vec<f64> = (0..searches.max(1))
        .map(|_| {
            let probe = rng.template(dim);
            let t = Instant::now();
            let hit = idx.best(&probe, Some("ref-00000000"));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(hit);
            ms
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    Measure {
        templates,
        searches: times.len(),
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        bytes_per_template: idx.bytes() as f64 / templates.max(1) as f64,
        build_ms,
    }
}

#[cfg(test)]
mod tests {
    /// `cargo test --release -p faceproof-gallery --lib bench -- --ignored --nocapture`
    #[test]
    #[ignore = "measurement, not a check"]
    fn latency() {
        for n in [10_000, 100_000, 1_000_000] {
            println!("{:?}", super::run(n, 128, 50, 7));
        }
    }
}
