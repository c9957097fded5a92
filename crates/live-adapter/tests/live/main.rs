//! live-adapter's tests: Kueue objects translated (fixtures written here, and Kueue's own
//! samples from `../shared/kueue` when present), the index's inputs, the check entries, the
//! owner's writes carried out against a mock API server (tower-test), and parity with the
//! sim's two-phase procedure through the inputs logs.

mod check;
mod fixtures;
mod index;
mod mock;
mod ops;
mod parity;
mod translate;
