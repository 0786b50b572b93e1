//! Two-loop (epistemic) uncertainty: the outer draws of the uncertain params, each of
//! which `brink run --epistemic K` runs on the same inner trials.

use crate::analysis::explore::LevelCounts;
use crate::sim::model::Model;
use crate::sim::rng::{epistemic_key, stream, Purpose};
use crate::sim::stats::percentile;
use serde::{Deserialize, Serialize};

/// Two-loop (epistemic) Monte Carlo: outer draws of the uncertain params, each run on
/// the same inner trials. Draw `k` of param `name` comes from the stream
/// `#epistemic/<name>`, trial `k`, so draws do not depend on how many are asked for.
pub fn epistemic_draw(model: &Model, seed: u64, k: u64) -> Vec<f64> {
    model
        .uncertain
        .iter()
        .map(|u| {
            let key = epistemic_key(seed, &model.params[u.param].0);
            u.dist.sample(&mut stream(&key, k, Purpose::Arrival))
        })
        .collect()
}

/// Parameter draws of a plain `brink run` of a scenario with uncertain params, by
/// default: enough for the 5th and 95th percentiles to rest on the 5th draw from each
/// end (docs/uncertainty.md, the spread of a predictive run).
pub const SPREAD_DRAWS: u64 = 100;

/// Inner trials per draw of that spread, by default (never more than the run's trials).
pub const SPREAD_TRIALS: u64 = 5_000;

/// The lower and upper percentile of P(level) across draws that a predictive run leads
/// with: the central 90% of the per-draw P, as `--epistemic` prints it.
pub const SPREAD_QUANTILES: (f64, f64) = (0.05, 0.95);

/// The draws `first..first + counts.len()` of a run's spread of P(level): draw k fixes the
/// uncertain params at [`epistemic_draw`]`(model, seed, k)` and runs the run's trials
/// `0..trials` (common random numbers, as `--epistemic`), counting the levels reached.
/// All integers, so shards of the draws concatenate into exactly one run's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpreadCounts {
    /// Draws of the whole run (K).
    pub draws: u64,
    /// Inner trials of each draw (N).
    pub trials: u64,
    /// The first draw held here.
    pub first: u64,
    /// Per draw held: the levels its trials reached.
    pub counts: Vec<LevelCounts>,
}

impl SpreadCounts {
    /// P(level `l`) in each draw held.
    pub(crate) fn level(&self, l: usize) -> Vec<f64> {
        self.counts.iter().map(|c| c.reached[l] as f64 / c.trials.max(1) as f64).collect()
    }

    /// The 5th and 95th percentile (nearest rank) of P(level `l`) across the draws.
    pub(crate) fn interval(&self, l: usize) -> (f64, f64) {
        let ps = self.level(l);
        (percentile(&ps, SPREAD_QUANTILES.0), percentile(&ps, SPREAD_QUANTILES.1))
    }
}
