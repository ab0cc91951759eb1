//! `faceproof`: one binary for every entry point. Each subcommand lives in `cmd/`, owns its
//! arguments and prints JSON on stdout (human-readable with `--pretty`).

mod cmd;
mod config;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "faceproof",
    version,
    about = "Face liveness and face match, self-hosted"
)]
struct Cli {
    /// Indent the JSON output for people.
    #[arg(long, global = true)]
    pretty: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect faces in a photo: boxes, landmarks, pose, quality, anti-spoofing score.
    Analyze(cmd::analyze::Args),
    /// Compare the largest face of two photos.
    Compare(cmd::compare::Args),
    /// Judge a selfie video (liveness, deepfake, quality codes) and match it to an ID photo.
    Check(cmd::check::Args),
    /// Fit the liveness / deepfake fusion and the face-match FAR model on labelled data.
    Calibrate(cmd::calibrate::Args),
    /// Judge every row of a labelled manifest and report PAD, matching and code metrics.
    Eval(cmd::eval::Args),
    /// Print the media facts of a video or image file, or why it is refused.
    Probe(cmd::probe::Args),
    /// Fetch, verify and list the model pack.
    #[command(subcommand)]
    Models(cmd::models::Command),
    /// Measure decode and model inference speed and peak memory on this machine.
    Bench(cmd::bench::Args),
    /// Run the HTTP service (FPT, silent-compare and ADVANCE compatible APIs).
    Serve(cmd::serve::Args),
    /// Add, list, revoke or rotate tenants and their credentials.
    #[command(subcommand)]
    Tenant(cmd::tenant::Command),
    /// 1:N gallery: delete a person's templates by external reference (data-subject request).
    #[command(subcommand)]
    Gallery(cmd::gallery::Command),
    /// Store maintenance: `rewrap` re-seals artefact data keys after a key rotation.
    #[command(subcommand)]
    Store(cmd::store::Command),
    /// Add or list the operator console's accounts, turn on TOTP.
    #[command(subcommand)]
    Operator(cmd::operator::Command),
    /// Check the console's hash-chained audit log.
    #[command(subcommand)]
    Audit(cmd::operator::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output { pretty: cli.pretty };
    match cli.command {
        Command::Analyze(args) => cmd::analyze::run(args, &out),
        Command::Compare(args) => cmd::compare::run(args, &out),
        Command::Check(args) => cmd::check::run(args, &out),
        Command::Calibrate(args) => cmd::calibrate::run(args, &out),
        Command::Eval(args) => cmd::eval::run(args, &out),
        Command::Probe(args) => cmd::probe::run(args, &out),
        Command::Models(command) => cmd::models::run(command, &out),
        Command::Bench(args) => cmd::bench::run(args, &out),
        Command::Serve(args) => cmd::serve::run(args, &out),
        Command::Tenant(command) => cmd::tenant::run(command, &out),
        Command::Gallery(command) => cmd::gallery::run(command, &out),
        Command::Store(command) => cmd::store::run(command, &out),
        Command::Operator(command) => cmd::operator::run(command, &out),
        Command::Audit(command) => cmd::operator::run_audit(command, &out),
    }
}
