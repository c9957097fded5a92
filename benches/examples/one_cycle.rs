//! One cycle of the `cycle-after-one-finish` benches, for an instruction count that this
//! shared VM's clock cannot give:
//!
//! ```sh
//! cargo build --release -p benches --example one_cycle
//! valgrind --tool=callgrind --toggle-collect='one_cycle::measured' \
//!   target/release/examples/one_cycle [default|without-steps-5-6] [pending]
//! ```
//!
//! `callgrind_annotate` then gives the instructions of the timed cycle alone.

use alloc_core::{BurstMode, Policy, Scheduler, Time};
use benches::{settled, OPENB_GPUS, SEED};
use std::hint::black_box;

#[inline(never)]
fn measured(scheduler: &mut Scheduler, now: Time) -> usize {
    scheduler.cycle(now).changes.len()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "default".into());
    let pending = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let mut policy = Policy::preset("default").unwrap_or_default();
    match variant.as_str() {
        "default" => {}
        "without-steps-5-6" => {
            policy.preemption.enabled = false;
            policy.burst.mode = BurstMode::Never;
        }
        other => {
            eprintln!("one_cycle: unknown variant {other:?} (default, without-steps-5-6)");
            std::process::exit(2);
        }
    }
    let (mut scheduler, now) = settled(OPENB_GPUS, pending, policy, SEED);
    let changes = measured(black_box(&mut scheduler), now);
    println!("{variant}, {pending} pending: {changes} changes");
}
