//! Accuracy vs labelled points, mean with an interval band over seeds, one panel per
//! (dataset, noise), like the paper's Figures 1-4, and the critical-difference diagram of the
//! strategies' average ranks; written as SVG and PNG.
use crate::run::JobResult;
use crate::spec::Spec;
use crate::stats::mean_interval;
use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Draws a figure twice, as SVG and as PNG, in memory, and writes `<stem>.svg` and `<stem>.png`
/// into `dir` atomically (a full disk leaves no half-written plot). The SVG needs nothing from
/// the system; the PNG needs a system font, so a machine without fonts gets a warning instead
/// of a PNG.
fn save(
    dir: &Path,
    stem: &str,
    size: (u32, u32),
    draw_svg: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> anyhow::Result<()> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    draw_svg(SVGBackend::with_string(&mut svg, size).into_drawing_area())
        .map_err(|e| anyhow::anyhow!("{}: {e}", svg_path.display()))?;
    crate::io::write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    let drawn = draw_png(BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area());
    if let Err(e) = drawn {
        eprintln!("warning: {}: {e}; the SVG was written", png_path.display());
        return Ok(());
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        size.0,
        size.1,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", png_path.display()))?;
    crate::io::write_atomic(&png_path, &png)?;
    Ok(())
}

/// One strategy's curve: (labels, mean, half-width) points.
pub type Curve = Vec<(f64, f64, f64)>;

/// Okabe-Ito colours, distinguishable with the common colour-vision deficiencies (Okabe & Ito
/// 2008); yellow last, as it is faint on white. Strategy i (spec order) gets colour i mod 8.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
];

/// Width of the legend column right of the charts: the legend never covers a curve.
const LEGEND_W: u32 = 170;

/// The metric axis fitted to the data: the lowest and highest band edge with a margin of 8% of
/// their distance (at least 0.01), kept within [0, 1]; (0, 1) when there is nothing to show.
pub fn y_range(series: &[(String, Curve)]) -> (f64, f64) {
    let points = series.iter().flat_map(|(_, c)| c.iter());
    let (lo, hi) = points.fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(p.1 - p.2), b.max(p.1 + p.2))
    });
    if lo > hi || !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(0.01);
    ((lo - pad).max(0.0), (hi + pad).min(1.0))
}

/// One chart: the metric (fitted range) against a count axis with integer ticks, every curve with
/// its band, coloured from palette position `first_colour` on. `title` may hold two lines (the
/// second drawn smaller).
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Curve)],
    first_colour: usize,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut lines = title.lines();
    let mut area = area.clone();
    if let Some(first) = lines.next() {
        area = area
            .titled(first, ("sans-serif", 16).into_font().color(&BLACK))
            .map_err(|e| err(&e))?;
    }
    for line in lines {
        area = area
            .titled(
                line,
                ("sans-serif", 13).into_font().color(&RGBColor(80, 80, 80)),
            )
            .map_err(|e| err(&e))?;
    }
    let (y0, y1) = y_range(series);
    // Counts: an integer axis, so ticks are whole numbers.
    let x = x.start.floor() as i64..x.end.ceil() as i64;
    let mut chart = ChartBuilder::on(&area)
        .margin_top(6)
        .margin_left(6)
        // Room for the last tick label, centred on the right edge.
        .margin_right(22)
        .margin_bottom(6)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .build_cartesian_2d(x, y0..y1)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(8)
        .y_label_formatter(&|v| format!("{v:.2}"))
        .y_labels(6)
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225))
        .axis_style(RGBColor(120, 120, 120))
        .draw()
        .map_err(|e| err(&e))?;
    draw_series(&mut chart, series, first_colour)?;
    Ok(())
}

/// The legend, in its own column: a line of each series' colour and its name, in series order.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, names: &[String]) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let font = ("sans-serif", 13).into_font();
    for (i, name) in names.iter().enumerate() {
        let y = 60 + 20 * i as i32;
        let colour = PALETTE[i % PALETTE.len()];
        area.draw(&PathElement::new(
            vec![(6, y), (28, y)],
            colour.stroke_width(3),
        ))
        .map_err(|e| err(&e))?;
        area.draw(&Text::new(name.clone(), (34, y - 7), font.clone()))
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

/// Each curve as a line with its interval band, in the palette's colour for its position
/// (counted from `first_colour`).
fn draw_series<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordi64, RangedCoordf64>>,
    series: &[(String, Curve)],
    first_colour: usize,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    for (i, (_, curve)) in series.iter().enumerate() {
        let colour = PALETTE[(first_colour + i) % PALETTE.len()].to_rgba();
        // x values are counts (labels, N): whole numbers.
        let band: Vec<(i64, f64)> = curve
            .iter()
            .map(|p| (p.0 as i64, (p.1 + p.2).min(1.0)))
            .chain(
                curve
                    .iter()
                    .rev()
                    .map(|p| (p.0 as i64, (p.1 - p.2).max(0.0))),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.15).filled(),
            )))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(
                curve.iter().map(|p| (p.0 as i64, p.1)),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

/// One panel per (dataset, noise) cell in spec order: its title and, per strategy in spec order,
/// the mean curve with its interval.
pub fn panels(spec: &Spec, results: &[JobResult]) -> Vec<(String, Vec<(String, Curve)>)> {
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
            out.push((panel_title(spec, &setup.dataset.name(), noise), series));
        }
    }
    out
}

/// "spec · dataset · noise 10%" over "accuracy, mean ± std over 5 seeds".
fn panel_title(spec: &Spec, dataset: &str, noise: &str) -> String {
    format!(
        "{} · {dataset} · noise {noise}\n{}, mean ± {} over {} seeds",
        spec.name,
        spec.metric.name(),
        spec.interval.name(),
        spec.seeds.len()
    )
}

/// The (dataset x noise) panels side by side, one legend right of them.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    spec: &Spec,
    panels: &[(String, Vec<(String, Curve)>)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let width = root.dim_in_pixel().0;
    let (charts, key) = root.split_horizontally(width.saturating_sub(LEGEND_W));
    let areas = charts.split_evenly((1, panels.len().max(1)));
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
            0,
        )?;
    }
    let names: Vec<String> = spec.strategies.iter().map(|s| s.name()).collect();
    legend(&key, &names)?;
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
    let width = root.dim_in_pixel().0;
    let (chart, key) = root.split_horizontally(width.saturating_sub(LEGEND_W));
    panel(
        &chart,
        &format!(
            "{} · {} after {labels} labels vs labels per step N\nmean ± {} over {} seeds",
            spec.name,
            spec.metric.name(),
            spec.interval.name(),
            spec.seeds.len()
        ),
        0.0..x1 + 1.0,
        "N (labels per step)",
        spec.metric.name(),
        series,
        0,
    )?;
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    legend(&key, &names)?;
    root.present().map_err(|e| err(&e))
}

/// Writes `curves.svg` and `curves.png` into `dir`, and `accuracy-vs-n.svg` / `.png` when the
/// spec sweeps DRAL's labels per step. The SVG needs nothing from the system; the
/// PNG needs a system font, so a machine without fonts gets a warning instead of a PNG.
pub fn curves(dir: &Path, spec: &Spec, results: &[JobResult]) -> anyhow::Result<()> {
    let panels = panels(spec, results);
    let size = (480 * panels.len().max(1) as u32 + LEGEND_W, 400);
    save(
        dir,
        "curves",
        size,
        |area| draw(area, spec, &panels),
        |area| draw(area, spec, &panels),
    )?;
    let sweep = by_top_n(spec, results);
    if !sweep.is_empty() {
        save(
            dir,
            "accuracy-vs-n",
            (640 + LEGEND_W, 400),
            |area| draw_by_n(area, spec, &sweep),
            |area| draw_by_n(area, spec, &sweep),
        )?;
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
    save(
        dir,
        "cd",
        size,
        |area| draw_cd(area, names, ranks, cd, &title),
        |area| draw_cd(area, names, ranks, cd, &title),
    )
}

/// One cell's panel with the legend, as SVG text (for report.html).
pub fn panel_svg(spec: &Spec, panel: &(String, Vec<(String, Curve)>)) -> anyhow::Result<String> {
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (520 + LEGEND_W, 380)).into_drawing_area(),
        spec,
        std::slice::from_ref(panel),
    )
    .map_err(|e| anyhow::anyhow!("plot of {}: {e}", panel.0.replace('\n', " ")))?;
    Ok(svg)
}

/// One job's learning curve, small, in its strategy's colour (for report.html).
pub fn job_svg(spec: &Spec, result: &JobResult) -> anyhow::Result<String> {
    let i = spec
        .strategies
        .iter()
        .position(|s| *s == result.job.strategy)
        .unwrap_or(0);
    let curve: Curve = result
        .curve
        .iter()
        .map(|p| (p.labels as f64, p.value(spec.metric), 0.0))
        .collect();
    let series = [(result.job.strategy.name(), curve)];
    let (x0, x1) = (
        result.curve.first().map_or(0.0, |p| p.labels as f64),
        result.curve.last().map_or(1.0, |p| p.labels as f64),
    );
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (420, 220)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        panel(
            &root,
            "",
            x0..x1,
            "labelled points",
            spec.metric.name(),
            &series,
            i,
        )
        .map_err(|e| anyhow::anyhow!("plot of job {}: {e}", result.job_id))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(svg)
}

/// A learned strategy's training: mean episode reward per iteration (top) and epsilon (bottom).
pub fn training_svg(rewards: &[f64], epsilons: &[f64]) -> anyhow::Result<String> {
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("training plot: {e}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (420, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (top, bottom) = root.split_vertically(200);
        let n = rewards.len().max(epsilons.len()).max(2) as i64;
        let finite = rewards.iter().copied().filter(|r| r.is_finite());
        let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(r), b.max(r)));
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.1).max(0.01);
        for (area, values, range, desc, colour) in [
            (
                &top,
                rewards,
                (lo - pad)..(hi + pad),
                "mean reward",
                PALETTE[4],
            ),
            (&bottom, epsilons, 0.0..1.0, "epsilon", PALETTE[5]),
        ] {
            let mut chart = ChartBuilder::on(area)
                .margin(6)
                .margin_right(22)
                .x_label_area_size(30)
                .y_label_area_size(52)
                .build_cartesian_2d(1..n, range)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc("iteration")
                .y_desc(desc)
                .label_style(("sans-serif", 12))
                .axis_desc_style(("sans-serif", 12))
                .x_labels(8)
                .y_labels(4)
                .y_label_formatter(&|v| format!("{v:.2}"))
                .max_light_lines(0)
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(|e| err(&e))?;
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(i, v)| (i as i64 + 1, *v)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}
