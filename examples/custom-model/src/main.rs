//! `racelab-sockets`: racelab's whole command line, with the `sockets` model added to the
//! shipped ones.

fn main() {
    racelab::cli::main(racelab::prelude::Registry::builtin().with(racelab_custom_model::Sockets))
}
