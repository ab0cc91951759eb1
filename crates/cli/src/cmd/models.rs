use crate::output::Output;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download, convert and verify the model pack into the cache directory.
    Fetch,
    /// List the models of the pack with their role, source, licence, contract and sha256.
    List,
}

pub fn run(_command: Command, out: &Output) -> ExitCode {
    out.error("not_implemented", "models is not implemented yet")
}
