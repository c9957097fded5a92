//! live-adapter end to end, against a real control plane: etcd, kube-apiserver and Kueue's
//! minimalkueue v0.17.0 as `testbed/up` builds and starts them. A mock API agrees with
//! whatever we believe about Kubernetes; a real apiserver and a real Kueue do not.
//!
//! Run it with a testbed up (`.ci/run` does this after the unit tests):
//!
//! ```sh
//! testbed/up                    # prints: export KUBECONFIG=… GPU_ALLOC_TESTBED=…
//! export GPU_ALLOC_TESTBED=$PWD/testbed/.state
//! cargo test -p live-adapter --test e2e -j1
//! testbed/down
//! ```
//!
//! Without `GPU_ALLOC_TESTBED` every test prints that it is skipped and passes, so a plain
//! `cargo test --workspace` needs no cluster. The tests share the cluster and take turns: each
//! resets it to empty first, and runs the adapter as a child process (this build's
//! `live-adapter` binary).
//!
//! minimalkueue has Kueue's scheduler and core controllers but no job integrations, so the
//! suite plays the job side where Kueue's job framework would act (see [`world::JobSide`]).

mod admission;
mod bed;
mod faults;
mod throughput;
mod world;
