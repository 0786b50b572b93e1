//! `split`: the probability of reaching each level estimated by multilevel splitting
//! (`brink run --split`), as the run's `levels` chart draws it: a dot per level on a log
//! axis with its 95% interval, so the rare rungs the method is for read at a glance.

use super::levels::{draw_dots, DotRow, LevelDots};
use super::{title_band, ChartError, ChartOptions, DrawResult, Style};
use crate::sim::model::Model;
use crate::sim::split::SplitRun;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The chart's title, subtitle and dots.
struct SplitChart {
    title: String,
    subtitle: String,
    dots: LevelDots,
}

/// Renders `split.png`/`split.svg` as (file name, bytes).
pub(crate) fn render(
    model: &Model,
    run: &SplitRun,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let name = match &model.variant {
        Some(v) => format!("{} [{v}]", model.name),
        None => format!("{} [baseline]", model.name),
    };
    let spec = &run.spec;
    let rows = model
        .levels
        .iter()
        .enumerate()
        .map(|(l, level)| {
            let e = run.estimate(l);
            DotRow {
                id: level.id.clone(),
                label: level.label.clone(),
                terminal: level.terminal,
                p: e.p,
                low: e.low,
                high: e.high,
            }
        })
        .collect::<Vec<_>>();
    let n = rows.len();
    // The title leads with the answer: the top level's estimate and interval.
    let top = model.levels.len() - 1;
    let e = run.estimate(top);
    let (lo, hi) = crate::output::text::pct_bounds(e.p, e.low, e.high);
    let answer = format!("P({}) = {} [{lo}, {hi}]", model.levels[top].id, crate::output::text::pct(e.p));
    // A run whose replications often missed a level says so where the chart is read.
    let starved: Vec<String> = (run.initial + 1..model.levels.len())
        .filter_map(|l| {
            let z = run.estimate(l).zeros;
            (f64::from(z) > 0.1 * f64::from(spec.replications)).then(|| format!("{} {z}", model.levels[l].id))
        })
        .collect();
    let design = format!(
        "{} replications x {} continuations per stage, seed {}",
        spec.replications, spec.effort, spec.seed
    );
    // The warning replaces the scenario's title, so that it is read and not cut.
    let subtitle = if starved.is_empty() {
        format!("{} · {design}", model.title)
    } else {
        format!(
            "WARNING: replications at 0 ({} of {}): intervals too narrow, give more --trials · {design}",
            starved.join(", "),
            spec.replications
        )
    };
    let chart = SplitChart {
        title: format!("{name}: {answer}, every level by splitting"),
        subtitle,
        dots: LevelDots {
            rows,
            spreads: vec![None; n],
            whisker: format!("95% interval from {} independent replications", spec.replications),
            x_desc: "P(level reached within the horizon), log scale".into(),
        },
    };
    super::draw_files("split", opts, &chart)
}

impl super::Draw for SplitChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = title_band(root, s, &self.title, &self.subtitle)?;
        draw_dots(&body, s, &self.dots)
    }
}
