//! Every reader of outside input answers with an error, never a panic or a hang: the spec parser
//! (and what a run derives from a spec), the datasets.lock parser, the npz and zip decoders, the
//! job-file, timing and policy-file readers. Inputs are arbitrary bytes and valid files mutated
//! by flips, inserts, deletions and truncations. Each case runs on its own thread with a deadline,
//! so a hang fails the test instead of stalling the suite; the case counts keep the whole file to
//! seconds.
mod common;
use proptest::prelude::*;
use ralbench::run::job::Job;
use ralbench::spec::Spec;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Cases per property: `n`, or PROPTEST_CASES when set (a longer search: PROPTEST_CASES=20000).
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

/// A case longer than this is a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread; fails on a panic or when it is still running at the deadline.
fn within_deadline(what: &str, f: impl FnOnce() + Send + 'static) -> Result<(), TestCaseError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(outcome.is_ok());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(true) => Ok(()),
        Ok(false) => Err(TestCaseError::fail(format!("{what} panicked"))),
        Err(_) => Err(TestCaseError::fail(format!(
            "{what} still running after {DEADLINE:?}"
        ))),
    }
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
    /// Copies a span over another place (moves tokens around, keeps the text mostly valid).
    Splice(usize, usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1usize..16).prop_map(|(p, n)| Edit::Delete(p, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>(), 1usize..32).prop_map(|(a, b, n)| Edit::Splice(a, b, n)),
    ];
    prop::collection::vec(edit, 1..6)
}

fn mutate(valid: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for e in edits {
        let len = b.len().max(1);
        match *e {
            Edit::Flip(p, x) if !b.is_empty() => b[p % len] ^= x | 1,
            Edit::Insert(p, x) => b.insert(p % (b.len() + 1), x),
            Edit::Delete(p, n) if !b.is_empty() => {
                let start = p % len;
                b.drain(start..(start + n).min(b.len()));
            }
            Edit::Truncate(p) => b.truncate(p % (b.len() + 1)),
            Edit::Splice(from, to, n) if !b.is_empty() => {
                let from = from % len;
                let span: Vec<u8> = b[from..(from + n).min(b.len())].to_vec();
                let to = to % (b.len() + 1);
                b.splice(to..(to + span.len()).min(b.len()), span);
            }
            _ => {}
        }
    }
    b
}

/// Mutations that keep UTF-8 (RON parsers take text): the edits, applied to the text's bytes,
/// read back lossily.
fn mutate_text(valid: &str, edits: &[Edit]) -> String {
    String::from_utf8_lossy(&mutate(valid.as_bytes(), edits)).into_owned()
}

/// Every spec in specs/, the texts the mutations start from.
fn spec_texts() -> &'static Vec<String> {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut paths = Vec::new();
        for dir in ["specs", "specs/ci", "specs/studies", "specs/timing"] {
            let Ok(entries) = std::fs::read_dir(common::root().join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "ron") {
                    paths.push(e.path());
                }
            }
        }
        paths.sort();
        let texts: Vec<String> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        assert!(
            texts.len() >= 10,
            "the specs/ directory is where it should be"
        );
        texts
    })
}

/// Parses `text` as a spec and, when it is valid, derives what `bench check` and `bench run`
/// derive before any work: the jobs, their ids, the label schedule, the dataset shapes.
fn exercise_spec(text: String) {
    if let Ok(spec) = Spec::parse(&text, Path::new("fuzz.ron")) {
        let jobs = Job::expand(&spec);
        for job in jobs.iter().take(50) {
            let _ = job.id();
            let _ = job.noise_label();
        }
        let _ = spec.label_schedule();
        let _ = spec.noise_labels();
        for setup in &spec.setups {
            let _ = setup.dataset.shape();
        }
    }
}

const LOCK: &str = include_str!("../datasets.lock");

/// A small PneumoniaMNIST-shaped .npz (the decoder's valid input), deflated as MedMNIST ships
/// it and stored (so mutations reach the .npy headers: shapes, dtypes).
fn valid_npzs() -> &'static [Vec<u8>; 2] {
    static NPZ: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    NPZ.get_or_init(|| {
        use ndarray::{Array2, Array3};
        [true, false].map(|compressed| {
            let file = tempfile::NamedTempFile::new().unwrap();
            let handle = file.reopen().unwrap();
            let mut npz = if compressed {
                ndarray_npy::NpzWriter::new_compressed(handle)
            } else {
                ndarray_npy::NpzWriter::new(handle)
            };
            for (part, n) in [("train", 6), ("val", 2), ("test", 2)] {
                let x =
                    Array3::<u8>::from_shape_fn((n, 8, 8), |(i, r, c)| (i * 31 + r * 7 + c) as u8);
                let y = Array2::<u8>::from_shape_fn((n, 1), |(i, _)| (i % 2) as u8);
                npz.add_array(format!("{part}_images"), &x).unwrap();
                npz.add_array(format!("{part}_labels"), &y).unwrap();
            }
            npz.finish().unwrap();
            std::fs::read(file.path()).unwrap()
        })
    })
}

/// A zip laid out like both Kather 2016 (class folders of .tif) and Kermany 2018
/// (train/test/NORMAL|PNEUMONIA of .jpeg), stored uncompressed so mutations reach the images.
fn valid_zip() -> &'static Vec<u8> {
    static ZIP: OnceLock<Vec<u8>> = OnceLock::new();
    ZIP.get_or_init(|| {
        use std::io::Write;
        let encode = |format: image::ImageFormat| {
            let img =
                image::RgbImage::from_fn(6, 6, |x, y| image::Rgb([x as u8 * 40, y as u8 * 40, 90]));
            let mut bytes = std::io::Cursor::new(Vec::new());
            image::DynamicImage::ImageRgb8(img)
                .write_to(&mut bytes, format)
                .unwrap();
            bytes.into_inner()
        };
        let (tif, jpeg) = (
            encode(image::ImageFormat::Tiff),
            encode(image::ImageFormat::Jpeg),
        );
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in [
            ("Kather/01_TUMOR/a.tif", &tif),
            ("Kather/02_STROMA/b.tif", &tif),
            ("chest_xray/train/NORMAL/a.jpeg", &jpeg),
            ("chest_xray/test/PNEUMONIA/b.jpeg", &jpeg),
        ] {
            zip.start_file(name, stored).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    })
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file
}

fn exercise_npz(bytes: Vec<u8>) {
    let file = temp_file(&bytes);
    let _ = ralbench::data::decode::medmnist_npz(file.path(), 8);
}

fn exercise_zip(bytes: Vec<u8>) {
    let file = temp_file(&bytes);
    let limit = 1 << 20;
    let _ = ralbench::data::decode::kather_zip(file.path(), 8, limit);
    let _ = ralbench::data::decode::kermany_zip(file.path(), 8, limit);
}

/// The output directory of one real CI run: job files and timing.ron to mutate.
struct Finished {
    _dir: tempfile::TempDir,
    jobs: Vec<(Job, Vec<u8>)>,
    timing: Vec<u8>,
}

fn finished_run() -> &'static Finished {
    static RUN: OnceLock<Finished> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        common::run_spec("specs/ci/quickstart.ron", &out, 1).success();
        let (spec, _) = Spec::load(&out.join("spec.ron")).unwrap();
        let jobs = Job::expand(&spec)
            .into_iter()
            .map(|job| {
                let bytes =
                    std::fs::read(out.join("jobs").join(format!("{}.ron", job.id()))).unwrap();
                (job, bytes)
            })
            .collect();
        let timing = std::fs::read(out.join("timing.ron")).unwrap();
        Finished {
            _dir: dir,
            jobs,
            timing,
        }
    })
}

/// `bytes` read as `job`'s result file, then as a run's timing.ron.
fn exercise_job_file(job: Job, bytes: Vec<u8>) {
    let file = temp_file(&bytes);
    let _ = ralbench::run::reusable(file.path(), &job);
    exercise_timing(bytes);
}

fn exercise_timing(bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("timing.ron"), &bytes).unwrap();
    let _ = ralbench::run::read_timing(dir.path());
}

/// A saved DRAL policy (small MLP) to mutate.
fn valid_policy() -> &'static Vec<u8> {
    static POLICY: OnceLock<Vec<u8>> = OnceLock::new();
    POLICY.get_or_init(|| {
        use ralbench::rl::policy_file::{PolicyMeta, save};
        let q = ralbench::rl::qnet::QNet::new(
            &ralbench::rl::qnet::Arch::Mlp(vec![4]),
            5,
            3,
            tch::Device::Cpu,
            &mut ralbench::rng::stream(0, "fuzz"),
        );
        let meta = PolicyMeta {
            job_id: "0123".into(),
            seed: 0,
            ralbench_version: "0".into(),
            libtorch_version: "0".into(),
            compute: "cpu".into(),
            log: Default::default(),
        };
        let file = tempfile::NamedTempFile::new().unwrap();
        save(&q, &meta, file.path()).unwrap();
        std::fs::read(file.path()).unwrap()
    })
}

fn exercise_policy(bytes: Vec<u8>) {
    use ralbench::rl::{policy_file, qnet};
    let file = temp_file(&bytes);
    let _ = policy_file::read_meta(file.path());
    // As a run reuses a saved policy: the network its widths describe, then its weights.
    for arch in [qnet::Arch::Mlp(vec![4]), qnet::Arch::LalRl] {
        if let Ok((state, action)) = policy_file::dims(file.path(), &arch) {
            let rng = &mut ralbench::rng::stream(0, "fuzz");
            let mut q = qnet::QNet::new(&arch, state, action, tch::Device::Cpu, rng);
            let _ = policy_file::load(&mut q, file.path());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn spec_parser_takes_any_text(text in "\\PC{0,300}") {
        within_deadline("Spec::parse", move || exercise_spec(text))?;
    }

    #[test]
    fn spec_parser_takes_mutated_specs(which in any::<prop::sample::Index>(), edits in edits()) {
        let texts = spec_texts();
        let text = mutate_text(&texts[which.index(texts.len())], &edits);
        within_deadline("Spec::parse", move || exercise_spec(text))?;
    }

    #[test]
    fn lock_parser_takes_any_and_mutated_text(text in "\\PC{0,300}", edits in edits()) {
        within_deadline("Lock::parse", move || {
            let _ = ralbench::data::lock::Lock::parse(&text, Path::new("fuzz.lock"));
            let _ = ralbench::data::lock::Lock::parse(&mutate_text(LOCK, &edits), Path::new("fuzz.lock"));
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(96), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn npz_decoder_takes_any_and_mutated_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), stored in any::<bool>(), edits in edits()) {
        within_deadline("medmnist_npz", move || exercise_npz(bytes))?;
        let mutated = mutate(&valid_npzs()[stored as usize], &edits);
        within_deadline("medmnist_npz", move || exercise_npz(mutated))?;
    }

    #[test]
    fn zip_decoders_take_any_and_mutated_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), edits in edits()) {
        within_deadline("kather_zip / kermany_zip", move || exercise_zip(bytes))?;
        let mutated = mutate(valid_zip(), &edits);
        within_deadline("kather_zip / kermany_zip", move || exercise_zip(mutated))?;
    }

    #[test]
    fn job_and_timing_readers_take_any_and_mutated_files(which in any::<prop::sample::Index>(), bytes in prop::collection::vec(any::<u8>(), 0..256), edits in edits()) {
        let run = finished_run();
        let (job, valid) = run.jobs[which.index(run.jobs.len())].clone();
        let j = job.clone();
        within_deadline("job file reader", move || exercise_job_file(j, bytes))?;
        let mutated = mutate(&valid, &edits);
        within_deadline("job file reader", move || exercise_job_file(job, mutated))?;
        let timing = mutate(&run.timing, &edits);
        within_deadline("timing reader", move || exercise_timing(timing))?;
    }

    #[test]
    fn policy_reader_takes_any_and_mutated_files(bytes in prop::collection::vec(any::<u8>(), 0..256), edits in edits()) {
        within_deadline("policy file reader", move || exercise_policy(bytes))?;
        let mutated = mutate(valid_policy(), &edits);
        within_deadline("policy file reader", move || exercise_policy(mutated))?;
    }
}

/// The valid inputs the mutations start from are read back, so the properties above start from
/// inputs that get past the first check.
#[test]
fn valid_inputs_are_read_back() {
    for text in spec_texts() {
        Spec::parse(text, Path::new("spec.ron")).unwrap();
    }
    ralbench::data::lock::Lock::parse(LOCK, Path::new("datasets.lock")).unwrap();
    for npz in valid_npzs() {
        let npz = temp_file(npz);
        assert_eq!(
            ralbench::data::decode::medmnist_npz(npz.path(), 8)
                .unwrap()
                .labels
                .len(),
            10
        );
    }
    let zip = temp_file(valid_zip());
    assert_eq!(
        ralbench::data::decode::kather_zip(zip.path(), 8, 1 << 20)
            .unwrap()
            .labels
            .len(),
        2
    );
    assert_eq!(
        ralbench::data::decode::kermany_zip(zip.path(), 8, 1 << 20)
            .unwrap()
            .labels
            .len(),
        2
    );
    let run = finished_run();
    for (job, bytes) in &run.jobs {
        let file = temp_file(bytes);
        assert!(matches!(
            ralbench::run::reusable(file.path(), job),
            ralbench::run::Reuse::Done(_)
        ));
    }
    let policy = temp_file(valid_policy());
    assert!(ralbench::rl::policy_file::read_meta(policy.path()).is_some());
}

/// The numbers of a text, as byte ranges (digits, with a leading minus sign and one dot).
fn number_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if starts {
            let s = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            let mut e = i;
            while e < b.len() && (b[e].is_ascii_digit() || b[e] == b'.' || b[e] == b'e') {
                e += 1;
            }
            spans.push((s, e));
            i = e;
        } else {
            i += 1;
        }
    }
    spans
}

/// Values at the edges of what a number field takes.
const EXTREMES: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "0.0",
    "-0.0",
    "1e308",
    "1e-320",
    "4294967296",
    "18446744073709551615",
    "9223372036854775807",
    "100000",
    "1000000000",
    "0.5",
    "NaN",
    "inf",
];

/// Replaces numbers of `bytes` by extremes: (which number, which extreme) per edit.
fn with_extremes_bytes(
    bytes: &[u8],
    picks: &[(prop::sample::Index, prop::sample::Index)],
) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for (n, x) in picks {
        let spans = number_spans(&bytes);
        if spans.is_empty() {
            break;
        }
        let (s, e) = spans[n.index(spans.len())];
        bytes.splice(s..e, EXTREMES[x.index(EXTREMES.len())].bytes());
    }
    bytes
}

fn with_extremes(text: &str, picks: &[(prop::sample::Index, prop::sample::Index)]) -> String {
    String::from_utf8(with_extremes_bytes(text.as_bytes(), picks))
        .expect("ASCII numbers keep UTF-8")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn spec_parser_takes_extreme_numbers(which in any::<prop::sample::Index>(), picks in prop::collection::vec(any::<(prop::sample::Index, prop::sample::Index)>(), 1..4)) {
        let texts = spec_texts();
        let text = with_extremes(&texts[which.index(texts.len())], &picks);
        within_deadline("Spec::parse", move || exercise_spec(text))?;
    }

    #[test]
    fn npz_decoder_takes_extreme_header_numbers(picks in prop::collection::vec(any::<(prop::sample::Index, prop::sample::Index)>(), 1..4)) {
        // The stored .npz: its .npy headers (shape, version, header length) are plain text.
        let bytes = with_extremes_bytes(&valid_npzs()[1], &picks);
        within_deadline("medmnist_npz", move || exercise_npz(bytes))?;
    }
}

/// Tensors of every dtype, under the names and often the shapes of the fuzzed policy's network
/// (`Mlp([4])` over 5 + 3 inputs): what a policy file of another version or tool could hold.
fn foreign_policy() -> impl Strategy<Value = Vec<u8>> {
    use safetensors::Dtype;
    let dtypes = vec![
        Dtype::BOOL,
        Dtype::U8,
        Dtype::I8,
        Dtype::I16,
        Dtype::U16,
        Dtype::F16,
        Dtype::BF16,
        Dtype::I32,
        Dtype::U32,
        Dtype::F32,
        Dtype::F64,
        Dtype::I64,
        Dtype::U64,
    ];
    let names: [(&str, Vec<usize>); 4] = [
        ("fc0.weight", vec![4, 8]),
        ("fc0.bias", vec![4]),
        ("out.weight", vec![1, 4]),
        ("out.bias", vec![1]),
    ];
    let tensor = (
        prop::sample::select(dtypes),
        any::<bool>(),
        prop::collection::vec(0usize..9, 0..4),
        any::<bool>(),
    );
    prop::collection::vec(tensor, 4).prop_map(move |tensors| {
        let buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .zip(names.iter())
            .filter(|((_, _, _, keep), _)| *keep)
            .map(|((dtype, real_shape, shape, _), (name, real))| {
                let shape = if real_shape { real.clone() } else { shape };
                let n: usize = shape.iter().product::<usize>() * dtype.size();
                (name.to_string(), dtype, shape, vec![1u8; n])
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = buffers
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                let view =
                    safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes).unwrap();
                (name.clone(), view)
            })
            .collect();
        safetensors::tensor::serialize(views, &None).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn policy_reader_takes_foreign_tensors(bytes in foreign_policy()) {
        within_deadline("policy file reader", move || exercise_policy(bytes))?;
    }
}
