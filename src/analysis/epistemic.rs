//! Two-loop (epistemic) uncertainty: the outer draws of the uncertain params, each of
//! which `brink run --epistemic K` runs on the same inner trials.

use crate::sim::model::Model;
use crate::sim::rng::{epistemic_key, stream, Purpose};

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
