//! The scan: int8 dot products of one probe against a block of contiguous rows, accumulated in
//! i32 (128 products of at most 127^2 fit easily). Written as plain loops the compiler vectorises;
//! on x86-64 an AVX2 copy of the same loop is chosen at run time (sign-extend to i16, multiply-add
//! pairs to i32), twice the lanes of the SSE2 baseline.

#[inline(always)]
pub(crate) fn dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

#[inline(always)]
fn scan_portable(rows: &[i8], dim: usize, probe: &[i8], out: &mut [i32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(dim)) {
        *o = dot(row, probe);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(rows: &[i8], dim: usize, probe: &[i8], out: &mut [i32]) {
    scan_portable(rows, dim, probe, out);
}

/// `out[i] = rows[i*dim..(i+1)*dim] . probe` for every whole row (`out.len()` rows at most).
pub(crate) fn scan(rows: &[i8], dim: usize, probe: &[i8], out: &mut [i32]) {
    debug_assert_eq!(probe.len(), dim);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to support AVX2, the only requirement of scan_avx2.
        unsafe { scan_avx2(rows, dim, probe, out) };
        return;
    }
    scan_portable(rows, dim, probe, out);
}

#[cfg(test)]
mod tests {
    #[test]
    fn scan_matches_dot() {
        let dim = 128;
        let rows: Vec<i8> = (0..dim * 5)
            .map(|i| ((i * 37) % 255) as i32 as i8)
            .collect();
        let probe: Vec<i8> = (0..dim).map(|i| (127 - (i * 11) % 255) as i8).collect();
        let mut out = vec![0; 5];
        super::scan(&rows, dim, &probe, &mut out);
        for (i, o) in out.iter().enumerate() {
            assert_eq!(*o, super::dot(&rows[i * dim..(i + 1) * dim], &probe));
        }
        assert_eq!(
            super::dot(&[-128, 127], &[-128, 127]),
            128 * 128 + 127 * 127
        );
    }
}
