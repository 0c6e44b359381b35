//! Accuracy vs labelled points, mean with an interval band over seeds, one panel per
//! (dataset, noise), like the paper's Figures 1-4, and the critical-difference diagram of the
//! strategies' average ranks; written as SVG and PNG.
use crate::run::JobResult;
use crate::spec::Spec;
use crate::stats::mean_interval;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// One strategy's curve: (labels, mean, half-width) points.
type Curve = Vec<(f64, f64, f64)>;

/// One chart: axes (the metric, 0..1, against `x`), every curve with its band, and the legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Curve)],
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(x, 0.0..1.0)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    draw_series(&mut chart, series)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(legend)
        .draw()
        .map_err(|e| err(&e))?;
    Ok(())
}

/// Each curve as a line with its interval band, and a legend entry.
fn draw_series<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    series: &[(String, Curve)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    for (i, (name, curve)) in series.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        let band: Vec<(f64, f64)> = curve
            .iter()
            .map(|p| (p.0, p.1 + p.2))
            .chain(curve.iter().rev().map(|p| (p.0, p.1 - p.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.2).filled(),
            )))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(
                curve.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
    }
    Ok(())
}

fn panels(spec: &Spec, results: &[JobResult]) -> Vec<(String, Vec<(String, Curve)>)> {
    let noises = spec.noise_labels();
    let mut out = Vec::new();
    for setup in &spec.setups {
        for noise in &noises {
            let mut series = Vec::new();
            for strategy in &spec.strategies {
                let mut by_labels: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
                for r in results.iter().filter(|r| {
                    r.job.dataset == setup.dataset
                        && r.job.strategy == *strategy
                        && r.job.noise_label() == *noise
                }) {
                    for p in &r.curve {
                        by_labels
                            .entry(p.labels)
                            .or_default()
                            .push(p.value(spec.metric));
                    }
                }
                let curve = by_labels
                    .iter()
                    .map(|(&l, v)| {
                        let (m, i) = mean_interval(v, spec.interval, &format!("plot/{l}"));
                        (l as f64, m, i.unwrap_or(0.0))
                    })
                    .collect();
                series.push((strategy.name(), curve));
            }
            let title = if noises.len() > 1 {
                format!("{}, noise {noise}", setup.dataset.name())
            } else {
                setup.dataset.name()
            };
            out.push((title, series));
        }
    }
    out
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    spec: &Spec,
    results: &[JobResult],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = panels(spec, results);
    let areas = root.split_evenly((1, panels.len().max(1)));
    for ((title, series), area) in panels.iter().zip(areas) {
        let xs = series.iter().flat_map(|(_, c)| c.iter().map(|p| p.0));
        let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
        let (x0, x1) = if x0 < x1 { (x0, x1) } else { (0.0, 1.0) };
        panel(
            &area,
            title,
            x0..x1,
            "labelled points",
            spec.metric.name(),
            series,
            SeriesLabelPosition::LowerRight,
        )?;
    }
    root.present().map_err(|e| err(&e))
}

/// Accuracy at the last reported label count against labels per step N, for specs that sweep
/// DRAL's top_n (the paper's Figure 4): (N, mean, half-width) per dataset.
fn by_top_n(spec: &Spec, results: &[JobResult]) -> Vec<(String, Curve)> {
    let Some(&labels) = spec.report_at.last() else {
        return vec![];
    };
    let mut out = Vec::new();
    for setup in &spec.setups {
        let mut points = Vec::new();
        for s in &spec.strategies {
            let crate::spec::StrategySpec::Dral(d) = s else {
                continue;
            };
            let Some(n) = d.top_n else { continue };
            let values: Vec<f64> = results
                .iter()
                .filter(|r| r.job.dataset == setup.dataset && r.job.strategy == *s)
                .filter_map(|r| r.curve.iter().find(|p| p.labels == labels))
                .map(|p| p.value(spec.metric))
                .collect();
            if !values.is_empty() {
                let (m, i) = mean_interval(&values, spec.interval, &format!("plot-n/{n}"));
                points.push((n as f64, m, i.unwrap_or(0.0)));
            }
        }
        if points.len() >= 2 {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.push((setup.dataset.name(), points));
        }
    }
    out
}

fn draw_by_n<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    spec: &Spec,
    series: &[(String, Curve)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let labels = spec.report_at.last().copied().unwrap_or(0);
    let x1 = series
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    panel(
        &root,
        &format!(
            "{} after {labels} labels vs labels per step N",
            spec.metric.name()
        ),
        0.5..x1 + 0.5,
        "N (labels per step)",
        spec.metric.name(),
        series,
        SeriesLabelPosition::MiddleRight,
    )?;
    root.present().map_err(|e| err(&e))
}

/// Writes `curves.svg` and `curves.png` into `dir`, and `accuracy-vs-n.svg` / `.png` when the
/// spec sweeps DRAL's labels per step. The SVG needs nothing from the system; the
/// PNG needs a system font, so a machine without fonts gets a warning instead of a PNG.
pub fn curves(dir: &Path, spec: &Spec, results: &[JobResult]) -> anyhow::Result<()> {
    let width = 480 * (spec.setups.len() * spec.noise.len().max(1)) as u32;
    let size = (width.max(480), 400);
    let svg = dir.join("curves.svg");
    draw(
        SVGBackend::new(&svg, size).into_drawing_area(),
        spec,
        results,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
    let png = dir.join("curves.png");
    if let Err(e) = draw(
        BitMapBackend::new(&png, size).into_drawing_area(),
        spec,
        results,
    ) {
        eprintln!("warning: {}: {e}; the SVG plot was written", png.display());
    }
    let sweep = by_top_n(spec, results);
    if !sweep.is_empty() {
        let svg = dir.join("accuracy-vs-n.svg");
        draw_by_n(
            SVGBackend::new(&svg, (640, 400)).into_drawing_area(),
            spec,
            &sweep,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
        let png = dir.join("accuracy-vs-n.png");
        if let Err(e) = draw_by_n(
            BitMapBackend::new(&png, (640, 400)).into_drawing_area(),
            spec,
            &sweep,
        ) {
            eprintln!("warning: {}: {e}; the SVG plot was written", png.display());
        }
    }
    Ok(())
}

/// Pixel x of average rank `r` on a critical-difference axis from rank 1 to `k`.
fn rank_x(r: f64, k: usize, (left, right): (i32, i32)) -> i32 {
    let span = (k.max(2) - 1) as f64;
    left + ((r - 1.0) / span * (right - left) as f64).round() as i32
}

/// One critical-difference diagram (Demsar 2006): the average rank of each strategy on an axis
/// (1 = best, on the left), a bar of length `cd` above it, and thick lines joining strategies
/// whose ranks differ by less than `cd` (no significant difference by the Nemenyi test).
fn draw_cd<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    names: &[String],
    ranks: &[f64],
    cd: f64,
    title: &str,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    use plotters::element::{PathElement, Text};
    let err = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let k = names.len();
    let (w, _) = root.dim_in_pixel();
    let axis = (180, w as i32 - 180);
    let axis_y = 70;
    let font = ("sans-serif", 14).into_font();
    let small = ("sans-serif", 12).into_font();
    let line = |pts: Vec<(i32, i32)>, width: u32| PathElement::new(pts, BLACK.stroke_width(width));
    root.draw(&Text::new(title.to_string(), (10, 8), font.clone()))
        .map_err(|e| err(&e))?;
    root.draw(&line(vec![(axis.0, axis_y), (axis.1, axis_y)], 1))
        .map_err(|e| err(&e))?;
    for r in 1..=k {
        let x = rank_x(r as f64, k, axis);
        root.draw(&line(vec![(x, axis_y - 5), (x, axis_y)], 1))
            .map_err(|e| err(&e))?;
        root.draw(&Text::new(
            r.to_string(),
            (x - 4, axis_y - 20),
            small.clone(),
        ))
        .map_err(|e| err(&e))?;
    }
    // The critical difference, drawn to the axis's scale above its left end.
    let cd_end = rank_x(1.0 + cd, k, axis).min(axis.1);
    root.draw(&line(vec![(axis.0, 35), (cd_end, 35)], 2))
        .map_err(|e| err(&e))?;
    root.draw(&Text::new(
        format!("CD = {cd:.2}"),
        (cd_end + 6, 29),
        small.clone(),
    ))
    .map_err(|e| err(&e))?;
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]).then(a.cmp(&b)));
    // Cliques: maximal runs of the rank order spanning less than cd.
    let mut cliques: Vec<(usize, usize)> = Vec::new();
    for i in 0..k {
        let mut j = i;
        while j + 1 < k && ranks[order[j + 1]] - ranks[order[i]] < cd {
            j += 1;
        }
        if j > i && cliques.last().is_none_or(|&(_, e)| j > e) {
            cliques.push((i, j));
        }
    }
    for (n, &(i, j)) in cliques.iter().enumerate() {
        let y = axis_y + 12 + 8 * n as i32;
        let (a, b) = (
            rank_x(ranks[order[i]], k, axis) - 3,
            rank_x(ranks[order[j]], k, axis) + 3,
        );
        root.draw(&line(vec![(a, y), (b, y)], 4))
            .map_err(|e| err(&e))?;
    }
    // Labels: the better half to the left, the rest to the right, one row each.
    let top = axis_y + 20 + 8 * cliques.len() as i32;
    let half = k.div_ceil(2);
    for (row, &s) in order.iter().enumerate() {
        let x = rank_x(ranks[s], k, axis);
        let (y, left) = if row < half {
            (top + 22 * row as i32, true)
        } else {
            (top + 22 * (k - 1 - row) as i32, false)
        };
        let end = if left { axis.0 - 10 } else { axis.1 + 10 };
        root.draw(&line(vec![(x, axis_y), (x, y), (end, y)], 1))
            .map_err(|e| err(&e))?;
        let text = format!("{} ({:.2})", names[s], ranks[s]);
        let tx = if left {
            end - 6 - 7 * text.len() as i32
        } else {
            end + 6
        };
        root.draw(&Text::new(text, (tx.max(2), y - 7), small.clone()))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}

/// Writes `cd.svg` and `cd.png` into `dir`: the critical-difference diagram of average ranks
/// `ranks` of `names` over `cells` cells, Nemenyi critical difference `cd`. As for the curves,
/// a machine without fonts gets a warning instead of the PNG.
pub fn critical_difference(
    dir: &Path,
    names: &[String],
    ranks: &[f64],
    cd: f64,
    cells: usize,
) -> anyhow::Result<()> {
    let height = 110 + 22 * names.len().div_ceil(2) as u32 + 4 * names.len() as u32;
    let size = (720, height);
    let title = format!("average rank over {cells} cells; Nemenyi CD at alpha 0.05");
    let svg = dir.join("cd.svg");
    draw_cd(
        SVGBackend::new(&svg, size).into_drawing_area(),
        names,
        ranks,
        cd,
        &title,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
    let png = dir.join("cd.png");
    if let Err(e) = draw_cd(
        BitMapBackend::new(&png, size).into_drawing_area(),
        names,
        ranks,
        cd,
        &title,
    ) {
        eprintln!(
            "warning: {}: {e}; the SVG diagram was written",
            png.display()
        );
    }
    Ok(())
}
