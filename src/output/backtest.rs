//! The file of `brink backtest`: `backtest.csv`, from the rows
//! [`crate::analysis::backtest::compare`] computed.

use crate::analysis::backtest::Row;

/// A count as an integer, anything else with 4 decimals.
fn csv_value(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.4}")
    }
}

/// `backtest.csv`.
pub fn csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "quantity",
        "month",
        "observed",
        "sim_median",
        "p25",
        "p75",
        "p5",
        "p95",
        "sim_mean",
        "percentile",
        "in_50",
        "in_90",
        "source",
    ]);
    for r in rows {
        let s = &r.sim;
        let _ = w.write_record([
            r.quantity.clone(),
            r.month.clone().unwrap_or_default(),
            csv_value(r.observed),
            csv_value(s.median),
            csv_value(s.p25),
            csv_value(s.p75),
            csv_value(s.p5),
            csv_value(s.p95),
            format!("{:.4}", s.mean),
            format!("{:.4}", r.percentile),
            r.in_50.to_string(),
            r.in_90.to_string(),
            r.source.clone(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
