//! The files of `brink fit` (docs/fit.md): `fit.csv`, `not-fitted.csv`,
//! `self-excitation.csv` and `params.toml`, from a [`Fit`].

use crate::analysis::fit::{Fit, Posterior};
use crate::output::text::{exact as num, sig};
use crate::sim::model::Model;

/// `fit.csv`: `param,estimate,low,high,method,n,exposure_days`, then the scenario's
/// value and what the param is.
pub fn fit_csv(f: &Fit) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "param",
        "estimate",
        "low",
        "high",
        "method",
        "n",
        "exposure_days",
        "scenario",
        "what",
    ]);
    for p in &f.fitted {
        let _ = w.write_record([
            p.param.clone(),
            sig(p.value.estimate, 6),
            sig(p.value.low, 6),
            sig(p.value.high, 6),
            p.method.to_owned(),
            p.n.to_string(),
            p.exposure_days.map(|x| sig(x, 6)).unwrap_or_default(),
            sig(p.hand, 6),
            p.what.clone(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// `not-fitted.csv`: `param,scenario,reason`.
pub fn not_fitted_csv(f: &Fit) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["param", "scenario", "reason"]);
    for p in &f.unfitted {
        let _ = w.write_record([p.param.clone(), sig(p.hand, 6), p.reason.clone()]);
    }
    w.into_inner().unwrap_or_default()
}

/// `self-excitation.csv`: the Hawkes check of each spontaneous step.
pub fn self_excitation_csv(f: &Fit, model: &Model) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "step",
        "firings",
        "mu",
        "mu_low",
        "mu_high",
        "n",
        "n_low",
        "n_high",
        "decay_days",
        "decay_low",
        "decay_high",
        "loglik",
        "poisson_loglik",
        "lr",
        "lr_p",
        "aic",
        "poisson_aic",
    ]);
    for c in &f.clustering {
        let h = &c.fit;
        let name: Vec<&str> = c.steps.iter().map(|&s| model.steps[s].id.as_str()).collect();
        let mut row = vec![name.join("+"), c.k.to_string()];
        for i in [h.mu, h.n, h.decay] {
            row.extend([sig(i.estimate, 6), sig(i.low, 6), sig(i.high, 6)]);
        }
        row.extend([h.loglik, h.poisson_loglik, h.lr, h.lr_p, h.aic, h.poisson_aic].map(|x| sig(x, 6)));
        let _ = w.write_record(row);
    }
    w.into_inner().unwrap_or_default()
}

/// `counts.csv`: the numbers of the counts chart, `step,month,logged,poisson,hawkes` (means
/// per history; `step` joins pooled steps with `+`; `hawkes` empty where the step had too
/// few firings for the self-excitation check).
pub fn counts_csv(f: &Fit, model: &Model) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["step", "month", "logged", "poisson", "hawkes"]);
    for series in &f.series {
        let name = crate::analysis::fit::group_name(model, &series.steps);
        for m in &series.months {
            let _ = w.write_record([
                name.clone(),
                m.label.clone(),
                sig(m.observed, 6),
                sig(m.poisson, 6),
                m.hawkes.map(|h| sig(h, 6)).unwrap_or_default(),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// `params.toml`: a `[params]` table of the fitted params as distributions, with a comment
/// per param naming the method and the data window; `--params` reads it back.
pub fn params_toml(f: &Fit, command: &str, window: &str) -> Vec<u8> {
    let mut t = String::new();
    t.push_str(&format!("# Params fitted by: {command}\n"));
    t.push_str(&format!("# Data window: {window}; {} log rows in it.\n", f.rows));
    t.push_str("# Rates per day. Each distribution is the posterior under Jeffreys' prior, or, for\n");
    t.push_str("# Hawkes params, a distribution of the same centre over the 95% profile interval.\n");
    t.push_str("# A branch p beside other fitted branches of its step is its posterior mean.\n");
    t.push_str("# A log that misses events puts the fitted rates low (docs/data.md, completeness).\n");
    t.push_str("# Probabilities from fewer than 3 trials are shown commented out: one case does not\n");
    t.push_str("# replace judgement.\n");
    t.push_str(
        "# Apply with --params FILE (after the variant, before --set). See docs/fit.md.\n\n[params]\n",
    );
    for p in &f.fitted {
        t.push_str(&format!(
            "# {}: {} {} [{}, {}] (95%), n = {}{}; scenario value {}\n",
            p.what,
            p.method,
            sig(p.value.estimate, 6),
            sig(p.value.low, 6),
            sig(p.value.high, 6),
            p.n,
            p.exposure_days.map(|e| format!(", exposure {} days", sig(e, 6))).unwrap_or_default(),
            sig(p.hand, 6)
        ));
        let dist = match p.posterior {
            Posterior::Gamma { mean, shape } => {
                format!("{{ gamma = {{ mean = {}, shape = {} }} }}", num(mean), num(shape))
            }
            Posterior::Beta(a, b) => format!("{{ beta = [{}, {}] }}", num(a), num(b)),
            Posterior::Pert(lo, mode, hi) => {
                format!("{{ pert = [{}, {}, {}] }}", num(lo), num(mode), num(hi))
            }
            Posterior::Mean(m) => {
                t.push_str(
                    "# (the posterior mean: the step's other branches share its Dirichlet posterior)\n",
                );
                num(m)
            }
        };
        if p.check.is_some() {
            t.push_str(&format!("{} = {dist}\n", p.param));
        } else {
            // One or two cases say too little to replace the author's judgement: the fit is
            // shown, not applied.
            t.push_str(&format!(
                "# {} = {dist}   # not applied: fewer than {} trials, the scenario's value stands\n",
                p.param,
                crate::analysis::fit::MIN_JUDGED
            ));
        }
    }
    if !f.unfitted.is_empty() {
        t.push_str("\n# Not fitted (the scenario's values stand):\n");
        for p in &f.unfitted {
            t.push_str(&format!("#   {}: {}\n", p.param, p.reason));
        }
    }
    t.into_bytes()
}
