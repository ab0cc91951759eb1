use crate::output::Output;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, out: &Output) -> ExitCode {
    out.error("not_implemented", "bench_models is not implemented yet")
}
