use std::process::ExitCode;

use clap::Parser;
use escalade::config::Cli;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    escalade::telemetry::init(&cli.log);
    match escalade::run::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("escalade: {err}");
            ExitCode::FAILURE
        }
    }
}
