//! `report.html`: one self-contained page per output directory (inline SVG and CSS, nothing
//! fetched, no script), so a run is read in one place: the header with provenance, per
//! (dataset, noise) cell its table and its curves side by side, the statistics, the comparison
//! with a paper table when `bench compare` wrote one, and per job its curve, the rows it queried
//! and, for learned strategies, the training record.
//!
//! Unlike the tables, the page shows the run's date and wall time, so (like timing.ron) it is not
//! part of what must be byte-identical between runs.
use super::SummaryRow;
use super::stats::Stats;
use crate::data::Origin;
use crate::run::{JobResult, RunSummary, RunTiming};
use crate::spec::Spec;
use std::fmt::Write;
use std::path::Path;

/// The page's file name in an output directory.
pub const FILE: &str = "report.html";

/// What `bench compare` writes for the page to show.
pub const COMPARE_FILE: &str = "compare.md";

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1d;margin:0 auto;max-width:1400px;padding:6px 18px 40px}
h1{font-size:21px;margin:6px 0 2px}h2{font-size:17px;margin:14px 0 4px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:10px 0 4px}p{margin:3px 0}
.synthetic{background:#fff0e0;border:2px solid #d55e00;padding:4px 10px;font-weight:600;margin:4px 0}
dl.provenance{display:grid;grid-template-columns:repeat(3,max-content minmax(0,1fr));gap:0 10px;font-size:12px;margin:4px 0;color:#333}
dl.provenance dt{font-weight:600}dl.provenance dd{margin:0;overflow-wrap:anywhere}
.cell{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px;margin:4px 0}caption{text-align:left;font-size:12px;color:#444;padding-bottom:2px}
th,td{padding:2px 8px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:1px solid #999}
td.best{font-weight:700;background:#eaf5ec}
figure{margin:0}.cell>div{flex:0 1 auto}.cell figure{flex:1 1 520px;min-width:360px;max-width:760px}.cell figure svg{width:100%;height:auto}
details{margin:3px 0}summary{cursor:pointer}
.note{font-size:12px;color:#444}td.rows{font-family:ui-monospace,monospace;font-size:12px;white-space:normal;text-align:left}th.rows{text-align:left}
";

/// Everything the page shows, gathered by the caller (`write_reports`).
pub struct Page<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The job results, in spec order.
    pub results: &'a [JobResult],
    /// Table rows.
    pub rows: &'a [SummaryRow],
    /// Notes under the table.
    pub notes: &'a [String],
    /// The statistics (also stats.md).
    pub stats: &'a Stats,
    /// stats.md.
    pub stats_md: &'a str,
}

fn esc(text: &str) -> String {
    let mut out = String::new();
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String");
    out
}

fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::ENABLE_TABLES);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

/// An SVG file's text for inlining (without its XML declaration, if any).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

fn date(unix_s: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_s as i64)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Writes `dir/report.html`.
pub fn write(dir: &Path, page: &Page<'_>) -> anyhow::Result<()> {
    let html = render(dir, page)?;
    crate::io::write_atomic(&dir.join(FILE), html.as_bytes())?;
    Ok(())
}

fn render(dir: &Path, page: &Page<'_>) -> anyhow::Result<String> {
    let spec = page.spec;
    let mut h = String::new();
    let title = format!("{} · ralbench report", spec.name);
    write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&title)
    )?;
    header(&mut h, dir, page)?;
    // One panel per (dataset, noise) cell, in the order of the spec's setups and noise levels.
    let panels = crate::plot::panels(spec, page.results);
    let cells = spec
        .setups
        .iter()
        .flat_map(|setup| spec.noise_labels().into_iter().map(move |n| (setup, n)));
    for (i, ((setup, noise), panel)) in cells.zip(&panels).enumerate() {
        let dataset = setup.dataset.name();
        writeln!(
            h,
            "<section class=\"cell\" id=\"cell-{}\"><div><h2>{} · noise {}</h2>",
            i + 1,
            esc(&dataset),
            esc(&noise)
        )?;
        cell_table(&mut h, spec, page.rows, &dataset, &noise)?;
        writeln!(h, "</div><figure class=\"curve\">")?;
        h += inline_svg(&crate::plot::panel_svg(spec, panel)?);
        writeln!(h, "</figure></section>")?;
    }
    for n in page.notes {
        writeln!(h, "<p class=\"note\">Note: {}</p>", esc(n))?;
    }
    writeln!(
        h,
        "<p class=\"note\">Bold: the best mean of its column in its cell. The same order of \
         strategies in tables, legends and lists: the spec's.</p>"
    )?;
    if let Ok(md) = std::fs::read_to_string(dir.join(COMPARE_FILE)) {
        writeln!(h, "<section id=\"compare\"><h2>Against the paper</h2>")?;
        h += &markdown(&md);
        writeln!(h, "</section>")?;
    }
    writeln!(h, "<section id=\"statistics\"><h2>Statistics</h2>")?;
    if page.stats.friedman.is_some()
        && let Ok(svg) = std::fs::read_to_string(dir.join("cd.svg"))
    {
        writeln!(h, "<figure class=\"cd\">{}</figure>", inline_svg(&svg))?;
    }
    // stats.md starts with its own title; the section has one.
    let body = page
        .stats_md
        .split_once('\n')
        .map_or(page.stats_md, |(_, rest)| rest);
    h += &markdown(body);
    writeln!(h, "</section>")?;
    jobs(&mut h, spec, page.results)?;
    writeln!(h, "</body></html>")?;
    Ok(h)
}

fn header(h: &mut String, dir: &Path, page: &Page<'_>) -> anyhow::Result<()> {
    let spec = page.spec;
    writeln!(h, "<header><h1>{}</h1>", esc(&spec.name))?;
    if !spec.description.is_empty() {
        writeln!(h, "<p>{}</p>", esc(&spec.description))?;
    }
    let synthetic: Vec<String> = spec
        .setups
        .iter()
        .filter(|s| s.dataset.origin() == Origin::Synthetic)
        .map(|s| s.dataset.name())
        .collect();
    if !synthetic.is_empty() {
        writeln!(
            h,
            "<p class=\"synthetic\">SYNTHETIC data ({}): a test of the machinery, not a paper \
             reproduction.</p>",
            esc(&synthetic.join(", "))
        )?;
    }
    let summary: Option<RunSummary> = std::fs::read_to_string(dir.join("run.ron"))
        .ok()
        .and_then(|t| ron::from_str(&t).ok());
    let timing: Option<RunTiming> = std::fs::read_to_string(dir.join("timing.ron"))
        .ok()
        .and_then(|t| ron::from_str(&t).ok());
    let mut items: Vec<(String, String)> = Vec::new();
    if let Some(t) = &timing {
        items.push(("run started".into(), date(t.started_unix_s)));
        items.push((
            "wall time".into(),
            format!("{:.1} s (+ {:.1} s preparing)", t.wall_s, t.prepare_s),
        ));
        items.push((
            "harness share".into(),
            format!(
                "{:.1}% outside classifier and policy work",
                100.0 * t.harness_share()
            ),
        ));
    }
    if let Some(s) = &summary {
        items.push(("commit".into(), s.git_sha.clone()));
        items.push(("ralbench".into(), s.ralbench_version.clone()));
        items.push((
            "tch / libtorch".into(),
            format!("{} / {}", s.tch_version, s.libtorch_version),
        ));
        let c = &s.compute;
        items.push((
            "compute".into(),
            format!(
                "{}, {} thread{}, {}deterministic, CPU code path {}{}",
                c.kind,
                c.threads,
                if c.threads == 1 { "" } else { "s" },
                if c.deterministic { "" } else { "not " },
                c.cpu_capability,
                if c.cpu_pinning.is_empty() {
                    String::new()
                } else {
                    " (pinned)".into()
                }
            ),
        ));
        for d in &s.datasets {
            items.push((format!("{} sha256", d.name), d.sha256.clone()));
        }
        if let Some(shard) = &s.shard {
            items.push(("shard".into(), shard.clone()));
        }
    }
    items.push((
        "jobs".into(),
        format!(
            "{} ({} strategies × {} seeds × cells)",
            page.results.len(),
            spec.strategies.len(),
            spec.seeds.len()
        ),
    ));
    writeln!(h, "<dl class=\"provenance\">")?;
    for (k, v) in items {
        writeln!(h, "<dt>{}</dt><dd>{}</dd>", esc(&k), esc(&v))?;
    }
    writeln!(h, "</dl></header>")?;
    Ok(())
}

/// The cell's rows of the accuracy table, the best mean of each column in bold.
fn cell_table(
    h: &mut String,
    spec: &Spec,
    rows: &[SummaryRow],
    dataset: &str,
    noise: &str,
) -> anyhow::Result<()> {
    let mine: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.dataset == dataset && r.noise == noise)
        .collect();
    writeln!(
        h,
        "<table class=\"accuracy\"><caption>{}, mean ± {} over {} seeds</caption><thead><tr><th>strategy</th>",
        esc(spec.metric.name()),
        esc(spec.interval.name()),
        spec.seeds.len()
    )?;
    for n in &spec.report_at {
        write!(h, "<th>{n} labels</th>")?;
    }
    writeln!(h, "</tr></thead><tbody>")?;
    let best: Vec<Option<f64>> = (0..spec.report_at.len())
        .map(|c| {
            mine.iter()
                .filter_map(|r| r.cells.get(c).and_then(|x| x.mean))
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        })
        .collect();
    for r in &mine {
        write!(h, "<tr><td>{}</td>", esc(&r.strategy))?;
        for (c, cell) in r.cells.iter().enumerate() {
            let text = match (cell.mean, cell.interval) {
                (None, _) => "n/a".into(),
                (Some(m), Some(i)) => format!("{m:.4} ± {i:.4}"),
                (Some(m), None) => format!("{m:.4}"),
            };
            let is_best = cell.mean.is_some() && cell.mean == best[c];
            let class = if is_best { " class=\"best\"" } else { "" };
            write!(h, "<td{class}>{}</td>", esc(&text))?;
        }
        writeln!(h, "</tr>")?;
    }
    writeln!(h, "</tbody></table>")?;
    Ok(())
}

/// Per job, collapsed: its curve, the rows it queried at each step, and a learned strategy's
/// training record.
fn jobs(h: &mut String, spec: &Spec, results: &[JobResult]) -> anyhow::Result<()> {
    writeln!(
        h,
        "<section id=\"jobs\"><h2>Jobs</h2><p class=\"note\">{} jobs; open one for its curve, the \
         rows it queried at each step and, for learned strategies, the training record.</p>",
        results.len()
    )?;
    for r in results {
        let last = r.curve.last().map_or(f64::NAN, |p| p.value(spec.metric));
        writeln!(
            h,
            "<details class=\"job\" id=\"job-{}\"><summary>{} · {} · noise {} · seed {}: {} {last:.4} at {} labels <small>({})</small></summary>",
            esc(&r.job_id),
            esc(&r.job.strategy.name()),
            esc(&r.job.dataset.name()),
            esc(&r.job.noise_label()),
            r.job.seed,
            esc(spec.metric.name()),
            r.curve.last().map_or(0, |p| p.labels),
            esc(&r.job_id),
        )?;
        h.push_str(inline_svg(&crate::plot::job_svg(spec, r)?));
        writeln!(
            h,
            "<table class=\"steps\"><thead><tr><th>step</th><th>labels</th><th>{}</th><th class=\"rows\">rows queried</th></tr></thead><tbody>",
            esc(spec.metric.name())
        )?;
        for (i, p) in r.curve.iter().enumerate() {
            let rows = if i == 0 {
                format!("initial set: {}", join(&r.initial))
            } else {
                r.queried.get(i - 1).map_or(String::new(), |q| join(q))
            };
            writeln!(
                h,
                "<tr><td>{i}</td><td>{}</td><td>{:.4}</td><td class=\"rows\">{}</td></tr>",
                p.labels,
                p.value(spec.metric),
                esc(&rows)
            )?;
        }
        writeln!(h, "</tbody></table>")?;
        if let Some(log) = &r.training {
            let warm = match &r.job.strategy {
                crate::spec::StrategySpec::Dral(d) => d.warm_start,
                crate::spec::StrategySpec::LalRl(l) => l.warm_start,
                _ => 0,
            };
            let rewards = log.iteration_rewards(warm);
            writeln!(
                h,
                "<h3>Policy training: {} iterations{}</h3>",
                log.iterations,
                if log.stopped_early {
                    ", stopped early"
                } else {
                    ""
                }
            )?;
            h.push_str(inline_svg(&crate::plot::training_svg(
                &rewards,
                &log.iteration_epsilons,
            )?));
            writeln!(
                h,
                "<table class=\"training\"><thead><tr><th>iteration</th><th>mean episode reward</th><th>epsilon</th><th>loss</th></tr></thead><tbody>"
            )?;
            for (i, reward) in rewards.iter().enumerate() {
                let eps = log
                    .iteration_epsilons
                    .get(i)
                    .map_or(String::new(), |e| format!("{e:.3}"));
                let loss = log
                    .iteration_losses
                    .get(i)
                    .map_or(String::new(), |l| format!("{l:.4}"));
                writeln!(
                    h,
                    "<tr><td>{}</td><td>{reward:.4}</td><td>{eps}</td><td>{loss}</td></tr>",
                    i + 1
                )?;
            }
            writeln!(h, "</tbody></table>")?;
        }
        writeln!(h, "</details>")?;
    }
    writeln!(h, "</section>")?;
    Ok(())
}

fn join(rows: &[usize]) -> String {
    rows.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
