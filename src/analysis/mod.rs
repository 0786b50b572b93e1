//! Analyses built on the runner: paired comparison of variants, sweeps and sensitivity
//! over params, and backtests of a scenario against a dated record. They compute; the
//! files they lead to are written by [`crate::output`].

pub mod backtest;
pub mod compare;
pub mod epistemic;
pub mod estimate;
pub mod explore;
pub mod fit;
pub mod score;
pub mod track;
