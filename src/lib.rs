pub mod analysis;
pub mod cli;
pub mod output;
pub mod present;
pub mod scenario;
pub mod shard;
pub mod sim;
