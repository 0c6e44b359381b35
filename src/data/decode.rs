//! Decoders for the downloaded archives: Kather 2016 tiles (zip of TIFFs), MedMNIST (.npz) and the
//! Kermany chest X-rays (zip of JPEG folders). Each returns images as [`Images`]: u8 pixels,
//! channels-first, resized to the size the spec asks for.
//!
//! Archives are untrusted input: entries with absolute paths or `..` are refused, and the total
//! uncompressed size is bounded (zip bombs).
use image::imageops::FilterType;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Decoded images: `n x channels x size x size` u8 pixels, with one label per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Pixels, channels-first per image.
    pub pixels: Vec<u8>,
    /// Class per image.
    pub labels: Vec<i64>,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Side length.
    pub size: usize,
}

impl Images {
    fn new(channels: usize, size: usize) -> Images {
        Images {
            pixels: vec![],
            labels: vec![],
            channels,
            size,
        }
    }

    /// Adds one decoded picture, converted and resized to this set's channels and size.
    fn push(&mut self, img: image::DynamicImage, label: i64) {
        let s = self.size as u32;
        let img = if img.width() != s || img.height() != s {
            img.resize_exact(s, s, FilterType::Triangle)
        } else {
            img
        };
        if self.channels == 1 {
            self.pixels.extend_from_slice(img.to_luma8().as_raw());
        } else {
            let rgb = img.to_rgb8();
            for c in 0..3 {
                self.pixels.extend(rgb.pixels().map(|p| p.0[c]));
            }
        }
        self.labels.push(label);
    }
}

/// Why an archive could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a readable archive or array file.
    #[error("{path}: {message}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// Decoder message.
        message: String,
    },
    /// An entry that would escape the extraction directory.
    #[error("{path}: refusing archive entry {entry:?} (absolute path or `..`)")]
    UnsafeEntry {
        /// Archive.
        path: PathBuf,
        /// Entry name.
        entry: String,
    },
    /// More uncompressed data than allowed.
    #[error("{path}: uncompressed contents exceed {limit} bytes; refusing (zip bomb?)")]
    TooLarge {
        /// Archive.
        path: PathBuf,
        /// Limit in bytes.
        limit: u64,
    },
    /// Not the expected layout.
    #[error("{path}: {message}")]
    Layout {
        /// File.
        path: PathBuf,
        /// What was expected.
        message: String,
    },
}

/// Upper bound on the uncompressed bytes read from one archive (the largest pinned one holds
/// about 1.3 GB of images).
pub const MAX_UNCOMPRESSED: u64 = 8 << 30;

/// The Kather 2016 class folders, in label order.
pub const KATHER_CLASSES: [&str; 8] = [
    "01_TUMOR",
    "02_STROMA",
    "03_COMPLEX",
    "04_LYMPHO",
    "05_DEBRIS",
    "06_MUCOSA",
    "07_ADIPOSE",
    "08_EMPTY",
];

/// Visits the file entries of a zip, in name order, with safe names and bounded total size.
fn for_each_entry(
    path: &Path,
    limit: u64,
    mut visit: impl FnMut(&Path, Vec<u8>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let corrupt = |e: &dyn std::fmt::Display| DecodeError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| corrupt(&e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| corrupt(&e))?;
    let mut names: Vec<(String, usize)> = (0..zip.len())
        .map(|i| zip.name_for_index(i).map(|n| (n.to_string(), i)))
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt(&"unreadable central directory"))?;
    names.sort();
    let mut total = 0u64;
    for (name, i) in names {
        let mut entry = zip.by_index(i).map_err(|e| corrupt(&e))?;
        let Some(safe) = entry.enclosed_name() else {
            return Err(DecodeError::UnsafeEntry {
                path: path.to_owned(),
                entry: name,
            });
        };
        if entry.is_dir() {
            continue;
        }
        // The declared size can lie; bound what is actually read.
        let room = limit.saturating_sub(total);
        let mut bytes = Vec::new();
        (&mut entry)
            .take(room + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(&format!("{name}: {e}")))?;
        total += bytes.len() as u64;
        if total > limit {
            return Err(DecodeError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        visit(&safe, bytes)?;
    }
    Ok(())
}

fn decode_image(
    path: &Path,
    entry: &Path,
    bytes: &[u8],
) -> Result<image::DynamicImage, DecodeError> {
    image::load_from_memory(bytes).map_err(|e| DecodeError::Corrupt {
        path: path.to_owned(),
        message: format!("{}: {e}", entry.display()),
    })
}

/// Kather 2016 tiles: `*/<class folder>/*.tif`, 8 classes, RGB.
pub fn kather_zip(path: &Path, size: usize, limit: u64) -> Result<Images, DecodeError> {
    let mut images = Images::new(3, size);
    for_each_entry(path, limit, |entry, bytes| {
        let is_tif = entry
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"));
        if !is_tif {
            return Ok(());
        }
        let folder = entry
            .parent()
            .and_then(Path::file_name)
            .and_then(|f| f.to_str());
        let Some(label) = folder.and_then(|f| KATHER_CLASSES.iter().position(|c| *c == f)) else {
            return Err(DecodeError::Layout {
                path: path.to_owned(),
                message: format!(
                    "{}: not inside one of the class folders {KATHER_CLASSES:?}",
                    entry.display()
                ),
            });
        };
        images.push(decode_image(path, entry, &bytes)?, label as i64);
        Ok(())
    })?;
    if images.labels.is_empty() {
        return Err(DecodeError::Layout {
            path: path.to_owned(),
            message: "no .tif tiles found".into(),
        });
    }
    Ok(images)
}

/// Kermany 2018 chest X-rays: `*/{train,test}/{NORMAL,PNEUMONIA}/*.jpeg`, grey; 0 normal, 1 pneumonia.
pub fn kermany_zip(path: &Path, size: usize, limit: u64) -> Result<Images, DecodeError> {
    let mut images = Images::new(1, size);
    for_each_entry(path, limit, |entry, bytes| {
        let parts: Vec<&str> = entry.iter().filter_map(|p| p.to_str()).collect();
        let is_jpeg = entry
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("jpeg") || e.eq_ignore_ascii_case("jpg"));
        if !is_jpeg || parts.contains(&"__MACOSX") || parts.len() < 3 {
            return Ok(());
        }
        let (split, class) = (parts[parts.len() - 3], parts[parts.len() - 2]);
        let label = match (split, class) {
            ("train" | "test", "NORMAL") => 0,
            ("train" | "test", "PNEUMONIA") => 1,
            _ => return Ok(()),
        };
        images.push(decode_image(path, entry, &bytes)?, label);
        Ok(())
    })?;
    if images.labels.is_empty() {
        return Err(DecodeError::Layout {
            path: path.to_owned(),
            message: "no */{train,test}/{NORMAL,PNEUMONIA}/*.jpeg images found".into(),
        });
    }
    Ok(images)
}

/// MedMNIST .npz: train/val/test images `(n, s, s)` or `(n, s, s, 3)` u8 and labels `(n, 1)`,
/// concatenated in that order (the harness makes its own splits).
pub fn medmnist_npz(path: &Path, size: usize) -> Result<Images, DecodeError> {
    use ndarray::{Array2, ArrayD};
    let corrupt = |e: &dyn std::fmt::Display| DecodeError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| corrupt(&e))?;
    let mut npz = ndarray_npy::NpzReader::new(file).map_err(|e| corrupt(&e))?;
    let mut images: Option<Images> = None;
    for part in ["train", "val", "test"] {
        let x: ArrayD<u8> = npz
            .by_name(&format!("{part}_images"))
            .map_err(|e| corrupt(&format!("{part}_images: {e}")))?;
        let y: Array2<u8> = npz
            .by_name(&format!("{part}_labels"))
            .map_err(|e| corrupt(&format!("{part}_labels: {e}")))?;
        let shape = x.shape().to_vec();
        let channels = match shape.as_slice() {
            [_, h, w] if h == w => 1,
            [_, h, w, 3] if h == w => 3,
            _ => {
                return Err(DecodeError::Layout {
                    path: path.to_owned(),
                    message: format!(
                        "{part}_images has shape {shape:?}; expected (n, s, s) or (n, s, s, 3)"
                    ),
                });
            }
        };
        if y.shape() != [shape[0], 1] {
            return Err(DecodeError::Layout {
                path: path.to_owned(),
                message: format!(
                    "{part}_labels has shape {:?}; expected ({}, 1)",
                    y.shape(),
                    shape[0]
                ),
            });
        }
        let out = images.get_or_insert_with(|| Images::new(channels, size));
        let s = shape[1] as u32;
        for (i, img) in x.outer_iter().enumerate() {
            let raw: Vec<u8> = img.iter().copied().collect();
            let picture = if channels == 1 {
                image::GrayImage::from_raw(s, s, raw).map(image::DynamicImage::ImageLuma8)
            } else {
                image::RgbImage::from_raw(s, s, raw).map(image::DynamicImage::ImageRgb8)
            }
            .expect("buffer length matches its shape");
            out.push(picture, y[[i, 0]] as i64);
        }
    }
    Ok(images.expect("three parts read"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, Vec<u8>)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn kather_tiles_get_labels_from_their_folders_and_are_resized() {
        let tile = |v: u8| {
            encoded(
                image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
                    6,
                    6,
                    image::Rgb([v, 0, 255]),
                )),
                image::ImageFormat::Tiff,
            )
        };
        let f = zip_with(&[
            ("K/03_COMPLEX/a.tif", tile(10)),
            ("K/01_TUMOR/b.tif", tile(20)),
            ("K/readme.txt", b"ignored".to_vec()),
        ]);
        let imgs = kather_zip(f.path(), 4, MAX_UNCOMPRESSED).unwrap();
        // Entries are visited in name order: 01_TUMOR first.
        assert_eq!(imgs.labels, vec![0, 2]);
        assert_eq!(imgs.pixels.len(), 2 * 3 * 4 * 4);
        assert_eq!(&imgs.pixels[..16], &[20; 16]);
        assert_eq!(&imgs.pixels[32..48], &[255; 16]);
    }

    #[test]
    fn unsafe_entries_and_zip_bombs_are_refused() {
        let f = zip_with(&[("../evil.tif", vec![0; 10])]);
        let e = kather_zip(f.path(), 4, MAX_UNCOMPRESSED).unwrap_err();
        assert!(matches!(e, DecodeError::UnsafeEntry { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("refusing archive entry \"../evil.tif\"")
        );
        let f = zip_with(&[("/abs.tif", vec![0; 10])]);
        assert!(matches!(
            kather_zip(f.path(), 4, MAX_UNCOMPRESSED),
            Err(DecodeError::UnsafeEntry { .. })
        ));
        // 1 MiB of zeros compresses to almost nothing; a 64 KiB limit stops it.
        let f = zip_with(&[("K/01_TUMOR/big.tif", vec![0; 1 << 20])]);
        let e = kather_zip(f.path(), 4, 64 << 10).unwrap_err();
        assert!(matches!(e, DecodeError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn a_tile_outside_the_class_folders_is_a_layout_error() {
        let f = zip_with(&[("K/09_OTHER/x.tif", vec![0; 4])]);
        let e = kather_zip(f.path(), 4, MAX_UNCOMPRESSED).unwrap_err();
        assert!(
            e.to_string()
                .contains("not inside one of the class folders"),
            "{e}"
        );
    }

    #[test]
    fn kermany_folders_give_binary_labels() {
        let jpeg = encoded(
            image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(8, 8, image::Luma([128]))),
            image::ImageFormat::Jpeg,
        );
        let f = zip_with(&[
            ("chest_xray/train/NORMAL/a.jpeg", jpeg.clone()),
            ("chest_xray/test/PNEUMONIA/b.jpeg", jpeg.clone()),
            (
                "__MACOSX/chest_xray/train/NORMAL/._a.jpeg",
                b"junk".to_vec(),
            ),
        ]);
        let imgs = kermany_zip(f.path(), 4, MAX_UNCOMPRESSED).unwrap();
        assert_eq!(imgs.labels, vec![1, 0]);
        assert_eq!((imgs.channels, imgs.pixels.len()), (1, 2 * 16));
    }

    #[test]
    fn medmnist_npz_concatenates_its_three_parts() {
        use ndarray::{Array2, Array3};
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut npz = ndarray_npy::NpzWriter::new_compressed(file.reopen().unwrap());
        for (part, n) in [("train", 3), ("val", 1), ("test", 2)] {
            let x = Array3::<u8>::from_shape_fn((n, 4, 4), |(i, _, _)| i as u8 * 10);
            let y = Array2::<u8>::from_shape_fn((n, 1), |(i, _)| (i % 2) as u8);
            npz.add_array(format!("{part}_images"), &x).unwrap();
            npz.add_array(format!("{part}_labels"), &y).unwrap();
        }
        npz.finish().unwrap();
        let imgs = medmnist_npz(file.path(), 4).unwrap();
        assert_eq!(imgs.labels, vec![0, 1, 0, 0, 0, 1]);
        assert_eq!(imgs.pixels.len(), 6 * 16);
        assert_eq!(imgs.pixels[16], 10);
    }

    #[test]
    fn corrupt_npz_is_a_clear_error() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"PK\x03\x04 this is not a zip").unwrap();
        let e = medmnist_npz(file.path(), 28).unwrap_err();
        assert!(matches!(e, DecodeError::Corrupt { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with(&file.path().display().to_string())
        );
    }
}
