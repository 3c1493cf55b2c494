use clap::Parser;

fn main() {
    let cli = racelab::cli::Cli::parse();
    std::process::exit(racelab::cli::main_with(cli));
}
