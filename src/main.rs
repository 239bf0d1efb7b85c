use clap::Parser;

fn main() -> anyhow::Result<()> {
    fieldproof::startup::tune_allocator();
    let cli = fieldproof::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(fieldproof::cli::run(cli))
}
