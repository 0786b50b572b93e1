//! The `brink` binary: all logic lives in the library; see `brink::cli`.

fn main() -> std::process::ExitCode {
    brink::cli::main()
}
