//! The files of `brink sweep` and `brink sensitivity`: `sweep.csv` and `sensitivity.csv`,
//! from what [`crate::analysis::explore`] computed.

use super::tables::f6;
use crate::analysis::compare::Estimate;
use crate::analysis::explore::{Axis, LevelCounts, SensitivityRow};
use crate::sim::model::Model;

/// `sweep.csv`: one row per grid point and level: the param values, P(reached) and its
/// Wilson interval.
pub(crate) fn sweep_csv(
    axes: &[Axis],
    points: &[Vec<f64>],
    model: &Model,
    counts: &[LevelCounts],
) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = axes.iter().map(|a| a.param.clone()).collect();
    header.extend(["level", "p_reached", "p_low", "p_high", "trials_reached"].map(String::from));
    let _ = w.write_record(&header);
    for (point, c) in points.iter().zip(counts) {
        for (l, level) in model.levels.iter().enumerate() {
            let p = c.p(l);
            let mut row: Vec<String> = point.iter().map(|v| trim(*v)).collect();
            row.extend([
                level.id.clone(),
                f6(p.value),
                p.low.map(f6).unwrap_or_default(),
                p.high.map(f6).unwrap_or_default(),
                c.reached[l].to_string(),
            ]);
            let _ = w.write_record(&row);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// A number without trailing zeros (param values as the user would write them).
pub fn trim(x: f64) -> String {
    let t = format!("{x:.10}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".into()
    } else {
        t.to_owned()
    }
}

/// `sensitivity.csv`: one row per param, sorted by swing.
pub(crate) fn sensitivity_csv(level: &str, base: Estimate, rows: &[SensitivityRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "param",
        "base_value",
        "low_value",
        "high_value",
        "level",
        "p_base",
        "p_low",
        "p_low_low",
        "p_low_high",
        "p_high",
        "p_high_low",
        "p_high_high",
        "diff_low",
        "diff_low_low",
        "diff_low_high",
        "diff_high",
        "diff_high_low",
        "diff_high_high",
        "swing",
    ]);
    let o = |x: Option<f64>| x.map(f6).unwrap_or_default();
    for r in rows {
        let s = &r.setting;
        let _ = w.write_record([
            s.param.clone(),
            trim(s.base),
            trim(s.low),
            trim(s.high),
            level.to_owned(),
            f6(base.value),
            f6(r.low.value),
            o(r.low.low),
            o(r.low.high),
            f6(r.high.value),
            o(r.high.low),
            o(r.high.high),
            f6(r.low_vs_base.value),
            o(r.low_vs_base.low),
            o(r.low_vs_base.high),
            f6(r.high_vs_base.value),
            o(r.high_vs_base.low),
            o(r.high_vs_base.high),
            f6(r.swing()),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::trim;

    #[test]
    fn param_values_read_as_written() {
        assert_eq!(trim(0.30000000000000004), "0.3");
        assert_eq!(trim(2.0), "2");
        assert_eq!(trim(-0.0), "0");
        assert_eq!(trim(-1e-12), "0");
    }
}
