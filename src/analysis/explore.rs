//! Exploring a scenario's params: grids (`brink sweep`) and one-at-a-time sensitivity
//! (`brink sensitivity`).
//!
//! Every grid point or low/high setting is the same scenario with params overridden, run
//! on the same seed and trial indices: common random numbers make neighbouring points
//! differ by the param's effect, not by noise, so curves are smooth and the swings of a
//! tornado chart are comparable.

use crate::analysis::compare::{paired_proportion, Estimate, Paired};
use crate::sim::model::Model;
use crate::sim::stats::{wilson, Aggregate, Z95};
use serde::{Deserialize, Serialize};

/// One axis of a sweep: a param and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Param name.
    pub param: String,
    /// Values, in order.
    pub values: Vec<f64>,
}

/// Parses `NAME=FROM:TO:STEPS` (STEPS evenly spaced values from FROM to TO inclusive).
pub(crate) fn parse_axis(s: &str) -> Result<Axis, String> {
    let (name, range) = s.split_once('=').ok_or_else(|| format!("expected NAME=FROM:TO:STEPS, got `{s}`"))?;
    let parts: Vec<&str> = range.split(':').collect();
    let [from, to, steps] = parts.as_slice() else {
        return Err(format!("expected NAME=FROM:TO:STEPS (e.g. attack_rate=0.05:0.3:6), got `{s}`"));
    };
    let num = |t: &str| t.trim().parse::<f64>().ok().filter(|x| x.is_finite());
    let (Some(from), Some(to)) = (num(from), num(to)) else {
        return Err(format!("FROM and TO must be finite numbers in `{s}`"));
    };
    let steps = steps.trim();
    let steps: usize = steps.parse().map_err(|_| {
        // Digits that do not fit are a number too large, not a number that is not whole.
        if !steps.is_empty() && steps.bytes().all(|b| b.is_ascii_digit()) {
            format!("STEPS is too large in `{s}`: it must be from 2 to 1000")
        } else {
            format!("STEPS must be a whole number in `{s}`")
        }
    })?;
    if !(2..=1000).contains(&steps) {
        return Err(format!("STEPS must be from 2 to 1000 in `{s}`"));
    }
    let values = (0..steps).map(|i| from + (to - from) * i as f64 / (steps - 1) as f64).collect();
    Ok(Axis { param: name.trim().to_owned(), values })
}

/// The grid points of one or two axes, the first axis varying slowest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<f64>> {
    let mut points: Vec<Vec<f64>> = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p| axis.values.iter().map(move |&v| [p.clone(), vec![v]].concat()))
            .collect();
    }
    points
}

/// How many of a setting's trials reached each level: all that `sweep.csv`, the sweep
/// charts and the base row of `sensitivity.csv` read from a run. Shards of a sweep keep
/// only these counts (an aggregate per grid point would be large), and they add up
/// exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LevelCounts {
    /// Trials run.
    pub trials: u64,
    /// Trials that reached each level, in ladder order.
    pub reached: Vec<u64>,
}

impl LevelCounts {
    /// The counts of a run's aggregate.
    pub(crate) fn of(agg: &Aggregate) -> LevelCounts {
        LevelCounts { trials: agg.trials, reached: agg.levels.iter().map(|l| l.reached).collect() }
    }

    /// Adds the counts of other trials of the same setting.
    pub(crate) fn merge(&mut self, o: &LevelCounts) {
        self.trials += o.trials;
        for (a, b) in self.reached.iter_mut().zip(&o.reached) {
            *a += b;
        }
    }

    /// P(level `l` reached) with its 95% Wilson interval.
    pub(crate) fn p(&self, l: usize) -> Estimate {
        let k = self.reached[l];
        let (lo, hi) = wilson(k, self.trials, Z95);
        Estimate { value: k as f64 / self.trials.max(1) as f64, low: Some(lo), high: Some(hi) }
    }
}

/// Counts the levels each trial reached, nothing else: the cheapest accumulator, for
/// the inner trials of a run's parameter draws (exact, so any number of threads agrees).
impl crate::sim::accumulate::Accumulate for LevelCounts {
    fn add(
        &mut self,
        _model: usize,
        outcome: &crate::sim::engine::Outcome<'_>,
        _first: &crate::sim::engine::Outcome<'_>,
    ) {
        self.trials += 1;
        for (c, day) in self.reached.iter_mut().zip(outcome.reached) {
            if !day.is_nan() {
                *c += 1;
            }
        }
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        LevelCounts::merge(self, &later);
        Ok(())
    }
}

/// One param's low and high setting for one-at-a-time sensitivity.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Param name.
    pub param: String,
    /// Its value in the scenario (after variant and --set).
    pub base: f64,
    /// The low value: base x (1 - spread), rounded for whole-number params.
    pub low: f64,
    /// The high value: base x (1 + spread), capped at 1 for probabilities, rounded for
    /// whole-number params.
    pub high: f64,
}

/// Low/high settings for every param the scenario uses.
pub(crate) fn sensitivity_design(model: &Model, spread: f64) -> Vec<Setting> {
    model
        .params
        .iter()
        .zip(&model.param_uses)
        .filter(|(_, u)| u.used)
        .map(|((name, v), u)| {
            let mut low = v * (1.0 - spread);
            let mut high = v * (1.0 + spread);
            if u.probability {
                high = high.min(1.0);
                low = low.max(0.0);
            }
            if u.whole {
                low = low.round();
                high = high.round();
            }
            Setting { param: name.clone(), base: *v, low: low.max(0.0), high }
        })
        .collect()
}

/// One row of `sensitivity.csv`.
#[derive(Debug, Clone)]
pub struct SensitivityRow {
    /// The setting.
    pub setting: Setting,
    /// P(metric level) at the low value.
    pub low: Estimate,
    /// P(metric level) at the high value.
    pub high: Estimate,
    /// Paired difference low minus base.
    pub low_vs_base: Estimate,
    /// Paired difference high minus base.
    pub high_vs_base: Estimate,
    /// Trials that reached the metric level at the low value.
    pub low_reached: u64,
    /// Trials that reached it at the high value (over the same trials as the low value).
    pub high_reached: u64,
    /// Trials run at each setting.
    pub trials: u64,
}

impl SensitivityRow {
    /// |P(high) - P(low)|: how far this param alone moves the metric.
    pub fn swing(&self) -> f64 {
        self.swing_count() as f64 / self.trials.max(1) as f64
    }

    /// |reached at high - reached at low|, in trials: the swing before the division by
    /// the common trial count, so that equal swings compare equal.
    pub fn swing_count(&self) -> u64 {
        self.high_reached.abs_diff(self.low_reached)
    }
}

/// Rows from a lockstep run of [base, p1 low, p1 high, p2 low, ...] on level `metric` of
/// the base model, sorted by swing, largest first. Every setting runs the same trials,
/// so swings are compared as exact counts of trials (|reached at high - reached at low|),
/// never as differences of rounded fractions: 93/n - 91/n and 92/n - 90/n are the same
/// swing, and equal swings are ordered by param name.
pub fn sensitivity_rows(
    design: &[Setting],
    paired: &[Paired],
    level_ix_in_pairs: usize,
) -> Vec<SensitivityRow> {
    let mut rows: Vec<SensitivityRow> = design
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lo = paired_proportion(paired[2 * i].level_counts[level_ix_in_pairs], paired[2 * i].trials);
            let hi = paired_proportion(
                paired[2 * i + 1].level_counts[level_ix_in_pairs],
                paired[2 * i + 1].trials,
            );
            let reached = |p: &Paired| {
                let c = p.level_counts[level_ix_in_pairs];
                c.both + c.b_only
            };
            SensitivityRow {
                setting: s.clone(),
                low: lo.b,
                high: hi.b,
                low_vs_base: lo.difference,
                high_vs_base: hi.difference,
                low_reached: reached(&paired[2 * i]),
                high_reached: reached(&paired[2 * i + 1]),
                trials: paired[2 * i].trials,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.swing_count().cmp(&a.swing_count()).then_with(|| a.setting.param.cmp(&b.setting.param))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_and_grid_is_row_major() {
        let a = parse_axis("rate=0:1:3").unwrap();
        assert_eq!(a.values, vec![0.0, 0.5, 1.0]);
        let b = parse_axis(" p = 0.2 : 0.4 : 2 ").unwrap();
        assert_eq!(b.param, "p");
        assert_eq!(
            grid(&[a.clone(), b]),
            vec![
                vec![0.0, 0.2],
                vec![0.0, 0.4],
                vec![0.5, 0.2],
                vec![0.5, 0.4],
                vec![1.0, 0.2],
                vec![1.0, 0.4]
            ]
        );
        assert!(parse_axis("rate=0:1").is_err());
        assert!(parse_axis("rate=0:1:1").is_err());
        assert!(parse_axis("rate=a:1:3").is_err());
    }
}
