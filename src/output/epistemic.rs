//! The two-loop run's own files (`brink run --epistemic K`): `params.csv`, one row per
//! draw of the uncertain params with each level's P in that draw, and `epistemic.csv`,
//! per level the pooled P, its spread across draws and each param's rank correlation
//! with it. The pooled tables (`levels.csv`, ...) are the usual ones (`tables.rs`).

use crate::sim::model::Model;
use crate::sim::stats::{percentile, spearman};

/// The outer loop's draws: what both files are written from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draws {
    /// The uncertain params, in the model's order.
    pub names: Vec<String>,
    /// Per draw: each param's value.
    pub values: Vec<Vec<f64>>,
    /// Per draw: each level's P(reached) in that draw's trials.
    pub p: Vec<Vec<f64>>,
}

impl Draws {
    /// P(level `l`) in each draw.
    pub(crate) fn level(&self, l: usize) -> Vec<f64> {
        self.p.iter().map(|d| d[l]).collect()
    }

    /// Param `j`'s Spearman rank correlation with P(level `l`) across the draws; None
    /// when either is constant.
    pub(crate) fn rank_correlation(&self, j: usize, l: usize) -> Option<f64> {
        let xs: Vec<f64> = self.values.iter().map(|d| d[j]).collect();
        spearman(&xs, &self.level(l))
    }

    /// What drives P(level `l`): each param with its rank correlation (0 where there is
    /// none), strongest first, ties by name.
    pub(crate) fn drivers(&self, l: usize) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = (0..self.names.len())
            .map(|j| (self.names[j].clone(), self.rank_correlation(j, l).unwrap_or(0.0)))
            .collect();
        v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// `params.csv`: `draw`, each uncertain param's value, then `p_<level>` for each level.
pub(crate) fn params_csv(model: &Model, d: &Draws) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["draw".into()];
    head.extend(d.names.iter().cloned());
    head.extend(model.levels.iter().map(|l| format!("p_{}", l.id)));
    let _ = w.write_record(&head);
    for (k, (vals, ps)) in d.values.iter().zip(&d.p).enumerate() {
        let mut row = vec![k.to_string()];
        row.extend(vals.iter().map(|v| format!("{v:.6}")));
        row.extend(ps.iter().map(|p| format!("{p:.6}")));
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

/// `epistemic.csv`: per level, a row with the pooled P (of all draws' trials, `pooled`,
/// per level) and the median, 5th and 95th percentile of the per-draw P; then one row per
/// param with its rank correlation with the per-draw P.
pub(crate) fn epistemic_csv(model: &Model, d: &Draws, pooled: &[f64]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["level", "p_pooled", "p_median", "p_p5", "p_p95", "param", "rank_correlation"]);
    for (l, level) in model.levels.iter().enumerate() {
        let ps = d.level(l);
        let pooled_p = pooled[l];
        let stats = [pooled_p, percentile(&ps, 0.5), percentile(&ps, 0.05), percentile(&ps, 0.95)]
            .map(|x| format!("{x:.6}"));
        let _ = w.write_record([level.id.as_str(), &stats[0], &stats[1], &stats[2], &stats[3], "", ""]);
        for (j, name) in d.names.iter().enumerate() {
            let rho = d.rank_correlation(j, l).map(|r| format!("{r:.4}")).unwrap_or_default();
            let _ = w.write_record([level.id.as_str(), "", "", "", "", name, &rho]);
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let src = include_str!("../../scenarios/minimal.toml");
        crate::scenario::compile_str("minimal.toml", src, &Default::default()).expect("minimal compiles")
    }

    /// Three draws of two params over minimal's three levels; `b` falls as P(war) rises.
    fn draws() -> Draws {
        Draws {
            names: vec!["b".into(), "a".into()],
            values: vec![vec![0.3, 1.0], vec![0.2, 1.0], vec![0.1, 1.0]],
            p: vec![vec![1.0, 0.5, 0.1], vec![1.0, 0.5, 0.2], vec![1.0, 0.5, 0.4]],
        }
    }

    #[test]
    fn params_csv_has_a_row_per_draw() {
        let m = model();
        let ids: Vec<String> = m.levels.iter().map(|l| format!("p_{}", l.id)).collect();
        let text = String::from_utf8(params_csv(&m, &draws())).unwrap();
        let expected = format!(
            "draw,b,a,{}\n0,0.300000,1.000000,1.000000,0.500000,0.100000\n\
             1,0.200000,1.000000,1.000000,0.500000,0.200000\n2,0.100000,1.000000,1.000000,0.500000,0.400000\n",
            ids.join(",")
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn epistemic_csv_gives_spread_and_rank_correlations() {
        let m = model();
        let d = draws();
        // b's ranks [3, 2, 1] against P(top) ranks [1, 2, 3]: -1; `a` is constant: none.
        assert_eq!(d.rank_correlation(0, 2), Some(-1.0));
        assert_eq!(d.rank_correlation(1, 2), None);
        assert_eq!(d.drivers(2), vec![("b".to_string(), -1.0), ("a".to_string(), 0.0)]);
        let pooled = [1.0, 0.5, 0.2];
        let text = String::from_utf8(epistemic_csv(&m, &d, &pooled)).unwrap();
        let top = &m.levels[2].id;
        // Nearest rank of 3 draws: the median is the 2nd, the 5th percentile the 1st, the
        // 95th the 3rd.
        assert!(
            text.contains(&format!(
                "\n{top},0.200000,0.200000,0.100000,0.400000,,\n{top},,,,,b,-1.0000\n{top},,,,,a,\n"
            )),
            "{text}"
        );
        assert!(text.starts_with("level,p_pooled,p_median,p_p5,p_p95,param,rank_correlation\n"), "{text}");
    }
}
