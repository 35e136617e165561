use std::process::ExitCode;

use clap::Parser;
use escalade::config::Cli;

/// mimalloc: a tenth to a sixth less of escalade's own CPU per request under load than glibc's
/// allocator (bench/RESULTS.md). Built without transparent huge pages (`no_thp`), which
/// otherwise took idle RSS from 45 to 82 MB at two workers.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
