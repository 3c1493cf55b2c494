//! Every scenario under `scenarios/` as tests of their own, one per file and variant
//! (`cargo test -p racelab-custom-model --test scenarios -- reconnect_close_race::guard`),
//! each replaying the file's regressions before it checks the variant's expectation.

use racelab::prelude::*;
use racelab_custom_model::Sockets;

fn main() {
    racelab::testing::harness(Registry::builtin().with(Sockets), &["scenarios"]);
}
