pub mod backtest;
pub mod compare;
pub mod explore;
