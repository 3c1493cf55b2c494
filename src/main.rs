use racelab::engine::Registry;

fn main() {
    racelab::cli::main(Registry::builtin())
}
