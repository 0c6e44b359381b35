//! Seeded procedural images, so the image pipeline runs at the paper's shapes without a download.
//!
//! SYNTHETIC data: every output that uses it says so, and it is never reported as a paper
//! reproduction. Each image is drawn from its own ChaCha stream keyed by (seed, generator, size,
//! index), so the same seed gives the same bytes whatever else is generated.
use super::decode::Images;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Colour of each histology-like class (H&E-ish pinks, purples, whites), RGB in [0, 1].
const PALETTE: [[f32; 3]; 8] = [
    [0.55, 0.20, 0.55],
    [0.85, 0.45, 0.60],
    [0.70, 0.35, 0.65],
    [0.35, 0.15, 0.55],
    [0.80, 0.60, 0.70],
    [0.60, 0.30, 0.50],
    [0.95, 0.90, 0.92],
    [0.90, 0.88, 0.90],
];

/// `synthetic-histology`: 8 texture classes, RGB, `size x size`, `per_class` images per class
/// (classes interleaved). Class k is a grating at angle k*pi/8 with its own frequency and colour.
pub fn histology(size: usize, per_class: usize, seed: u64) -> Images {
    let mut images = Images {
        pixels: Vec::with_capacity(8 * per_class * 3 * size * size),
        labels: Vec::with_capacity(8 * per_class),
        channels: 3,
        size,
    };
    let s = size as f32;
    for i in 0..8 * per_class {
        let k = i % 8;
        let mut rng = crate::rng::stream(seed, &format!("synthetic-histology/{size}/{i}"));
        let theta = k as f32 * std::f32::consts::PI / 8.0 + rng.random_range(-0.08..0.08);
        let cycles = 3.0 + (k % 4) as f32 * 2.0 + rng.random_range(-0.5..0.5);
        let phase = rng.random_range(0.0..std::f32::consts::TAU);
        let contrast = rng.random_range(0.25..0.45);
        let noise = Normal::new(0.0f32, 0.06).expect("valid sigma");
        let (c, sn) = (theta.cos(), theta.sin());
        let mut plane = vec![0f32; size * size];
        for y in 0..size {
            for x in 0..size {
                let u = (x as f32 * c + y as f32 * sn) / s;
                let v = 0.5 + 0.5 * (std::f32::consts::TAU * cycles * u + phase).sin();
                plane[y * size + x] = 1.0 - contrast + contrast * v;
            }
        }
        for colour in PALETTE[k] {
            images.pixels.extend(
                plane
                    .iter()
                    .map(|&v| to_u8(colour * v + noise.sample(&mut rng))),
            );
        }
        images.labels.push(k as i64);
    }
    images
}

/// `synthetic-xray`: binary, grey, `size x size`: two dark lung fields in a brighter body;
/// class 1 ("pneumonia-like") adds one to three bright blurred opacities inside the lungs.
pub fn xray(size: usize, per_class: usize, seed: u64) -> Images {
    let mut images = Images {
        pixels: Vec::with_capacity(2 * per_class * size * size),
        labels: Vec::with_capacity(2 * per_class),
        channels: 1,
        size,
    };
    let s = size as f32;
    for i in 0..2 * per_class {
        let k = i % 2;
        let mut rng = crate::rng::stream(seed, &format!("synthetic-xray/{size}/{i}"));
        let jitter = |rng: &mut rand_chacha::ChaCha20Rng| rng.random_range(-0.02f32..0.02);
        let lungs = [
            (0.32 + jitter(&mut rng), 0.52 + jitter(&mut rng)),
            (0.68 + jitter(&mut rng), 0.52 + jitter(&mut rng)),
        ];
        let (rx, ry) = (0.14 + jitter(&mut rng), 0.30 + jitter(&mut rng));
        let body = rng.random_range(0.55f32..0.7);
        let lung = rng.random_range(0.15f32..0.3);
        let blobs: Vec<(f32, f32, f32, f32)> = if k == 1 {
            (0..rng.random_range(1..=3))
                .map(|_| {
                    let (cx, cy) = lungs[rng.random_range(0..2)];
                    (
                        cx + rng.random_range(-0.06..0.06),
                        cy + rng.random_range(-0.15..0.15),
                        rng.random_range(0.05..0.1),
                        rng.random_range(0.25..0.45),
                    )
                })
                .collect()
        } else {
            vec![]
        };
        let noise = Normal::new(0.0f32, 0.04).expect("valid sigma");
        for y in 0..size {
            for x in 0..size {
                let (u, v) = (x as f32 / s, y as f32 / s);
                let in_lung = lungs
                    .iter()
                    .any(|(cx, cy)| ((u - cx) / rx).powi(2) + ((v - cy) / ry).powi(2) <= 1.0);
                let mut value = if in_lung { lung } else { body - 0.1 * v };
                for (bx, by, sigma, amp) in &blobs {
                    let d2 = (u - bx).powi(2) + (v - by).powi(2);
                    value += amp * (-d2 / (2.0 * sigma * sigma)).exp();
                }
                images.pixels.push(to_u8(value + noise.sample(&mut rng)));
            }
        }
        images.labels.push(k as i64);
    }
    images
}

fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(histology(16, 2, 7), histology(16, 2, 7));
        assert_ne!(histology(16, 2, 7).pixels, histology(16, 2, 8).pixels);
        assert_eq!(xray(28, 2, 1), xray(28, 2, 1));
        assert_ne!(xray(28, 2, 1).pixels, xray(28, 2, 2).pixels);
    }

    #[test]
    fn shapes_and_balanced_labels() {
        let h = histology(150, 1, 0);
        assert_eq!((h.pixels.len(), h.channels), (8 * 3 * 150 * 150, 3));
        assert_eq!(h.labels, (0..8).collect::<Vec<i64>>());
        let x = xray(224, 3, 0);
        assert_eq!(x.pixels.len(), 6 * 224 * 224);
        assert_eq!(x.labels.iter().filter(|&&y| y == 1).count(), 3);
    }

    #[test]
    fn opacities_make_class_one_brighter_inside_the_lungs() {
        let x = xray(64, 20, 3);
        let lung_mean = |i: usize| {
            let img = &x.pixels[i * 64 * 64..(i + 1) * 64 * 64];
            // A patch in the left lung.
            let mut sum = 0u32;
            for y in 26..40 {
                for px in 17..24 {
                    sum += img[y * 64 + px] as u32;
                }
            }
            sum as f64 / (14.0 * 7.0)
        };
        let mean = |k: usize| (0..40).filter(|i| i % 2 == k).map(lung_mean).sum::<f64>() / 20.0;
        assert!(mean(1) > mean(0) + 5.0, "{} vs {}", mean(1), mean(0));
    }
}
