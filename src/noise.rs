//! Image noise on a fraction of the training pool (paper Sec. 4.4.2), after MONAI 1.6.
//!
//! The paper applies random zoom, random rotation (+/- pi/12) and "random Gaussian multiplicative
//! noise" to 0, 10, 50 or 100% of the training images. Each transform keeps MONAI's parameters and
//! defaults, with one difference: MONAI's `prob` defaults to 0.1, while here the spec's `fraction`
//! already chooses the images, so `prob` defaults to 1 (every chosen image gets the transform).
//! Every draw comes from the stream the caller passes.
//!
//! ```
//! use ralbench::noise::Transform;
//! let img = tch::Tensor::ones([1, 8, 8], (tch::Kind::Float, tch::Device::Cpu));
//! let mut rng = ralbench::rng::stream(0, "doc");
//! let out = Transform::Rotate { range: 0.0, prob: 1.0 }.apply(&img, &mut rng);
//! assert_eq!(out.size(), vec![1, 8, 8]);
//! ```
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// One noise transform, as a spec writes it, e.g. `Rotate(range: 0.2618)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Transform {
    /// MONAI RandZoom: z ~ U(min_zoom, max_zoom) for both axes, "area" resize to floor(dim * z),
    /// then centre edge-padding or centre-cropping back to the original size.
    Zoom {
        /// Smallest factor (MONAI default 0.9).
        #[serde(default = "zoom_min")]
        min_zoom: f64,
        /// Largest factor (MONAI default 1.1).
        #[serde(default = "zoom_max")]
        max_zoom: f64,
        /// Chance per chosen image.
        #[serde(default = "one")]
        prob: f64,
    },
    /// MONAI RandRotate: theta ~ U(-range, range) radians about the centre, bilinear, border padding.
    Rotate {
        /// Largest angle in radians (the paper: pi/12 = 0.2618).
        range: f64,
        /// Chance per chosen image.
        #[serde(default = "one")]
        prob: f64,
    },
    /// The paper's wording: per-pixel multiplicative noise, img * (1 + N(0, std)).
    MultiplicativeGaussian {
        /// Standard deviation of the factor (default 0.1, MONAI's noise std).
        #[serde(default = "std_default")]
        std: f64,
        /// Chance per chosen image.
        #[serde(default = "one")]
        prob: f64,
    },
    /// MONAI RandGaussianNoise (additive): sigma ~ U(0, std), img + N(mean, sigma).
    GaussianNoise {
        /// Noise mean (MONAI default 0).
        #[serde(default)]
        mean: f64,
        /// Upper bound of sigma (MONAI default 0.1).
        #[serde(default = "std_default")]
        std: f64,
        /// Chance per chosen image.
        #[serde(default = "one")]
        prob: f64,
    },
    /// MONAI RandScaleIntensity: img * (1 + f), f ~ U(-factor, factor).
    ScaleIntensity {
        /// Largest relative change.
        factor: f64,
        /// Chance per chosen image.
        #[serde(default = "one")]
        prob: f64,
    },
}

fn zoom_min() -> f64 {
    0.9
}
fn zoom_max() -> f64 {
    1.1
}
fn one() -> f64 {
    1.0
}
fn std_default() -> f64 {
    0.1
}

impl Transform {
    /// The chance that a chosen image gets this transform.
    pub fn prob(&self) -> f64 {
        match *self {
            Transform::Zoom { prob, .. }
            | Transform::Rotate { prob, .. }
            | Transform::MultiplicativeGaussian { prob, .. }
            | Transform::GaussianNoise { prob, .. }
            | Transform::ScaleIntensity { prob, .. } => prob,
        }
    }

    /// Checks the parameters; the message says what to change.
    pub fn check(&self) -> Result<(), String> {
        let prob = self.prob();
        if !(0.0..=1.0).contains(&prob) {
            return Err(format!("prob {prob} must be in [0, 1]"));
        }
        match *self {
            Transform::Zoom {
                min_zoom, max_zoom, ..
            } if !(min_zoom > 0.0 && min_zoom <= max_zoom) => Err(format!(
                "zoom range {min_zoom}..{max_zoom} must satisfy 0 < min_zoom <= max_zoom"
            )),
            Transform::Rotate { range, .. } if !(0.0..=std::f64::consts::PI).contains(&range) => {
                Err(format!("range {range} must be in [0, pi] radians"))
            }
            Transform::MultiplicativeGaussian { std, .. }
            | Transform::GaussianNoise { std, .. }
                if std < 0.0 =>
            {
                Err(format!("std {std} must be >= 0"))
            }
            Transform::ScaleIntensity { factor, .. } if factor < 0.0 => {
                Err(format!("factor {factor} must be >= 0"))
            }
            _ => Ok(()),
        }
    }

    /// Applies the transform to one image `[channels, height, width]` (f32, CPU).
    pub fn apply(&self, img: &Tensor, rng: &mut ChaCha20Rng) -> Tensor {
        // Always draw the coin first, so the stream advances the same way whatever the outcome.
        let coin: f64 = rng.random();
        let prob = self.prob();
        if coin >= prob {
            return img.shallow_clone();
        }
        match *self {
            Transform::Zoom {
                min_zoom, max_zoom, ..
            } => zoom(img, uniform(rng, min_zoom, max_zoom)),
            Transform::Rotate { range, .. } => rotate(img, uniform(rng, -range, range)),
            Transform::MultiplicativeGaussian { std, .. } => {
                img * (gaussian_like(img, 0.0, std, rng) + 1.0)
            }
            Transform::GaussianNoise { mean, std, .. } => {
                let sigma = uniform(rng, 0.0, std);
                img + gaussian_like(img, mean, sigma, rng)
            }
            Transform::ScaleIntensity { factor, .. } => img * (1.0 + uniform(rng, -factor, factor)),
        }
    }
}

fn uniform(rng: &mut ChaCha20Rng, lo: f64, hi: f64) -> f64 {
    if lo == hi {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

fn gaussian_like(img: &Tensor, mean: f64, std: f64, rng: &mut ChaCha20Rng) -> Tensor {
    let normal = Normal::new(mean as f32, std as f32).expect("std checked >= 0");
    let n = img.numel();
    let values: Vec<f32> = (0..n).map(|_| normal.sample(rng)).collect();
    Tensor::from_slice(&values).view(img.size().as_slice())
}

/// "area" resize by `z`, then centre edge-pad or centre-crop back to the input size.
fn zoom(img: &Tensor, z: f64) -> Tensor {
    let size = img.size();
    let (h, w) = (size[1], size[2]);
    let (nh, nw) = (
        ((h as f64) * z).floor().max(1.0) as i64,
        ((w as f64) * z).floor().max(1.0) as i64,
    );
    let resized = img.unsqueeze(0).adaptive_avg_pool2d([nh, nw]);
    let fit = |t: Tensor, dim: i64, have: i64, want: i64| -> Tensor {
        if have > want {
            let start = (have - want) / 2;
            t.narrow(dim, start, want)
        } else {
            t
        }
    };
    let cropped = fit(fit(resized, 2, nh, h), 3, nw, w);
    let (ch, cw) = (nh.min(h), nw.min(w));
    let (top, left) = ((h - ch) / 2, (w - cw) / 2);
    let padded = if ch < h || cw < w {
        cropped.replication_pad2d([left, w - cw - left, top, h - ch - top])
    } else {
        cropped
    };
    padded.squeeze_dim(0)
}

/// Rotation by `theta` radians about the image centre; bilinear, border padding.
fn rotate(img: &Tensor, theta: f64) -> Tensor {
    if theta == 0.0 {
        return img.shallow_clone();
    }
    let size = img.size();
    let (c, s) = (theta.cos() as f32, theta.sin() as f32);
    let matrix = Tensor::from_slice(&[c, -s, 0.0, s, c, 0.0]).view([1, 2, 3]);
    let grid = Tensor::affine_grid_generator(&matrix, [1, size[0], size[1], size[2]], false);
    // interpolation 0 = bilinear, padding 1 = border.
    img.unsqueeze(0)
        .grid_sampler(&grid, 0, 1, false)
        .squeeze_dim(0)
}

/// The pool rows that get noise: round(fraction x pool size) of them, chosen by `rng`, ascending.
pub fn noisy_rows(pool: &[usize], fraction: f64, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let k = ((fraction * pool.len() as f64).round() as usize).min(pool.len());
    let mut rows: Vec<usize> = pool.choose_multiple(rng, k).copied().collect();
    rows.sort_unstable();
    rows
}

/// Applies `transforms` in order to `img`.
pub fn apply_all(transforms: &[Transform], img: &Tensor, rng: &mut ChaCha20Rng) -> Tensor {
    transforms
        .iter()
        .fold(img.shallow_clone(), |x, t| t.apply(&x, rng))
        .to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn image() -> Tensor {
        let values: Vec<f32> = (0..3 * 12 * 12)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        Tensor::from_slice(&values).view([3, 12, 12])
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    fn all() -> Vec<Transform> {
        vec![
            Transform::Zoom {
                min_zoom: 0.8,
                max_zoom: 1.2,
                prob: 1.0,
            },
            Transform::Rotate {
                range: std::f64::consts::PI / 12.0,
                prob: 1.0,
            },
            Transform::MultiplicativeGaussian {
                std: 0.1,
                prob: 1.0,
            },
            Transform::GaussianNoise {
                mean: 0.0,
                std: 0.1,
                prob: 1.0,
            },
            Transform::ScaleIntensity {
                factor: 0.2,
                prob: 1.0,
            },
        ]
    }

    #[test]
    fn every_transform_keeps_the_shape_and_repeats_with_the_seed() {
        let img = image();
        for t in all() {
            let a = t.apply(&img, &mut crate::rng::stream(1, "n"));
            let b = t.apply(&img, &mut crate::rng::stream(1, "n"));
            assert_eq!(a.size(), vec![3, 12, 12], "{t:?}");
            assert_eq!(max_diff(&a, &b), 0.0, "{t:?} is not deterministic");
            assert!(max_diff(&a, &img) > 1e-4, "{t:?} did nothing");
        }
    }

    #[test]
    fn zero_strength_is_the_identity() {
        let img = image();
        let none = [
            Transform::Zoom {
                min_zoom: 1.0,
                max_zoom: 1.0,
                prob: 1.0,
            },
            Transform::Rotate {
                range: 0.0,
                prob: 1.0,
            },
            Transform::MultiplicativeGaussian {
                std: 0.0,
                prob: 1.0,
            },
            Transform::GaussianNoise {
                mean: 0.0,
                std: 0.0,
                prob: 1.0,
            },
            Transform::ScaleIntensity {
                factor: 0.0,
                prob: 1.0,
            },
        ];
        for t in none {
            let out = t.apply(&img, &mut crate::rng::stream(0, "n"));
            assert!(max_diff(&out, &img) < 1e-6, "{t:?}");
        }
        // prob 0 never applies.
        let t = Transform::ScaleIntensity {
            factor: 0.5,
            prob: 0.0,
        };
        assert_eq!(
            max_diff(&t.apply(&img, &mut crate::rng::stream(0, "n")), &img),
            0.0
        );
    }

    #[test]
    fn rotation_by_a_tiny_angle_is_close_to_the_identity_and_a_constant_image_stays_constant() {
        let flat = Tensor::full([1, 9, 9], 0.5, (Kind::Float, Device::Cpu));
        let out = rotate(&flat, 0.2);
        assert!(
            max_diff(&out, &flat) < 1e-6,
            "border padding keeps a constant image constant"
        );
        let img = image();
        assert!(max_diff(&rotate(&img, 1e-7), &img) < 1e-4);
    }

    #[test]
    fn zoom_in_crops_and_zoom_out_edge_pads() {
        let img = image();
        let out = zoom(&img, 0.5);
        assert_eq!(out.size(), vec![3, 12, 12]);
        // Zooming out by 2 pads 3 pixels on each side with edge values: the corner repeats.
        assert_eq!(
            max_diff(&out.get(0).get(0).get(0), &out.get(0).get(3).get(3)),
            0.0
        );
        let out = zoom(&img, 2.0);
        assert_eq!(out.size(), vec![3, 12, 12]);
    }

    #[test]
    fn fraction_picks_round_p_times_n_distinct_pool_rows() {
        let pool: Vec<usize> = (100..300).collect();
        for (p, k) in [(0.0, 0), (0.1, 20), (0.5, 100), (1.0, 200), (0.0025, 1)] {
            let rows = noisy_rows(&pool, p, &mut crate::rng::stream(0, "rows"));
            assert_eq!(rows.len(), k, "p = {p}");
            let mut d = rows.clone();
            d.dedup();
            assert_eq!(d.len(), k);
            assert!(rows.iter().all(|r| pool.contains(r)));
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(
            Transform::Zoom {
                min_zoom: 1.2,
                max_zoom: 1.1,
                prob: 1.0
            }
            .check()
            .is_err()
        );
        assert!(
            Transform::Rotate {
                range: -0.1,
                prob: 1.0
            }
            .check()
            .is_err()
        );
        assert!(
            Transform::GaussianNoise {
                mean: 0.0,
                std: -1.0,
                prob: 1.0
            }
            .check()
            .is_err()
        );
        assert!(
            Transform::ScaleIntensity {
                factor: 0.1,
                prob: 1.5
            }
            .check()
            .is_err()
        );
    }
}
