//! report.html in a real browser: headless Chromium renders the page of a CI spec and of
//! specs/baselines.ron, takes a screenshot, and the test checks that the page holds every table
//! cell of table.csv and one plot per (dataset, noise), that nothing is logged to the console (a
//! blocked request or a script error would be), that the page loads no resource, and that the
//! first cell's table and curves fit one 1366 x 800 screen.
//!
//! Chromium is Debian's `chromium`, installed when missing where the test runs as root with
//! apt-get (CI); elsewhere the test skips with a message.
mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

const WIDTH: u32 = 1366;
const HEIGHT: u32 = 800;

fn chromium() -> Option<PathBuf> {
    let find = || {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| {
                let out = Command::new("sh")
                    .args(["-c", &format!("command -v {name}")])
                    .output()
                    .ok()?;
                let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
                (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
            })
    };
    if let Some(p) = find() {
        return Some(p);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let apt = Command::new("sh")
        .args(["-c", "command -v apt-get"])
        .status()
        .is_ok_and(|s| s.success());
    if !(root && apt) {
        eprintln!("skipped: no chromium, and installing it needs root and apt-get (CI has both)");
        return None;
    }
    eprintln!("installing Debian's chromium (apt-get)");
    let installed = Command::new("sh")
        .args([
            "-c",
            "export DEBIAN_FRONTEND=noninteractive; \
             (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) >/dev/null",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed, "apt-get install chromium failed");
    find()
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr).
fn browse(chromium: &Path, profile: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-extensions",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--window-size={WIDTH},{HEIGHT}"),
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of the page with the content security policy removed and a probe appended that, on
/// load, writes what it measured into the DOM: every resource the page fetched, the plots, and
/// where the first cell's table and figure end.
fn probed_copy(page: &Path, dir: &Path) -> PathBuf {
    let html = std::fs::read_to_string(page).unwrap();
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let probe = r#"<script>
window.addEventListener('load', () => {
  const bottom = (sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().bottom : -1; };
  const result = {
    resources: performance.getEntriesByType('resource').map((e) => e.name),
    plots: document.querySelectorAll('figure.curve svg').length,
    table_bottom: bottom('#cell-1 table'),
    figure_bottom: bottom('#cell-1 figure'),
    width: window.innerWidth,
    height: window.innerHeight,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>"#;
    let copy = format!(
        "{}{}",
        &html[..csp_start],
        &html[csp_end..].replace("</body>", &format!("{probe}</body>"))
    );
    let path = dir.join("probed.html");
    std::fs::write(&path, copy).unwrap();
    path
}

struct Checked {
    plots: usize,
    table_bottom: f64,
    figure_bottom: f64,
}

/// Every check but the one-screen layout, on the report of `out`.
fn check_report(chromium: &Path, out: &Path, work: &Path) -> Checked {
    let page = out.join("report.html");
    assert!(page.exists(), "{} missing", page.display());
    let profile = work.join("profile");

    // The page as written: its DOM after load, and the console.
    let (dom, stderr) = browse(chromium, &profile, &page, &["--dump-dom"]);
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    // Every cell of table.csv, in the section of its (dataset, noise).
    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut cells = std::collections::BTreeSet::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (dataset, noise, strategy) = (f[0], f[1], f[2]);
        cells.insert((dataset.to_string(), noise.to_string()));
        let heading = format!("<h2>{dataset} · noise {noise}</h2>");
        let start = dom
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let section = &dom[start..start + dom[start..].find("</section>").unwrap()];
        let row_start = section
            .find(&format!("<tr><td>{strategy}</td>"))
            .unwrap_or_else(|| panic!("{heading}: no row {strategy}"));
        let row = &section[row_start..row_start + section[row_start..].find("</tr>").unwrap()];
        for (i, name) in header.iter().enumerate().skip(3) {
            if let Some(labels) = name.strip_prefix("mean_") {
                let mean: f64 = f[i].parse().unwrap();
                let text = match f[i + 1].parse::<f64>() {
                    Ok(interval) => format!("{mean:.4} ± {interval:.4}"),
                    Err(_) => format!("{mean:.4}"),
                };
                assert!(
                    row.contains(&text),
                    "{heading} {strategy} at {labels} labels: {text} not in {row}"
                );
            }
        }
    }

    // The instrumented copy: resources, plots, layout.
    let probed = probed_copy(&page, work);
    let (dom, _) = browse(chromium, &profile, &probed, &["--dump-dom"]);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .expect("the probe ran")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let probe: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(probe["width"].as_u64(), Some(WIDTH as u64));
    let resources = probe["resources"].as_array().unwrap();
    assert!(resources.is_empty(), "the page fetched {resources:?}");
    let plots = probe["plots"].as_u64().unwrap() as usize;
    assert_eq!(plots, cells.len(), "one plot per (dataset, noise)");

    // A screenshot: a picture, not a blank page.
    let shot = work.join("screenshot.png");
    browse(
        chromium,
        &profile,
        &page,
        &[&format!("--screenshot={}", shot.display())],
    );
    let img = image::open(&shot).expect("a PNG screenshot").to_rgb8();
    assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
    let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        inked > (WIDTH * HEIGHT / 50) as usize,
        "screenshot nearly blank ({inked} non-white pixels)"
    );
    Checked {
        plots,
        table_bottom: probe["table_bottom"].as_f64().unwrap(),
        figure_bottom: probe["figure_bottom"].as_f64().unwrap(),
    }
}

/// Runs `spec` and checks its report in Chromium; None (skipped) where there is no Chromium.
fn run_and_check(spec: &str) -> Option<Checked> {
    let chromium = chromium()?;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    common::run_spec(spec, &out, 1).success();
    Some(check_report(&chromium, &out, work.path()))
}

#[test]
fn the_report_of_a_ci_spec_reads_in_a_browser() {
    let Some(checked) = run_and_check("specs/ci/table1.ron") else {
        return;
    };
    assert_eq!(
        checked.plots, 3,
        "synthetic-histology at noise 0, 10 and 100%"
    );
}

#[test]
fn the_baselines_page_shows_a_table_and_its_curves_on_one_screen() {
    let Some(checked) = run_and_check("specs/baselines.ron") else {
        return;
    };
    assert_eq!(checked.plots, 6);
    for (what, bottom) in [
        ("table", checked.table_bottom),
        ("curves", checked.figure_bottom),
    ] {
        assert!(
            bottom > 0.0 && bottom <= HEIGHT as f64,
            "the first cell's {what} ends at {bottom} px, below the {HEIGHT} px screen"
        );
    }
}
