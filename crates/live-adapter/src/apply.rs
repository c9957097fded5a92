//! Carrying out the owner's writes: server-side apply of our entry on `workloads/status` and
//! of the `Active` condition on `admissionchecks/status`, with our field manager and force
//! (as Kueue's own check controllers write), so the patch sets our fields only. A write is
//! idempotent; a 409 Conflict is retried a few times.

use crate::check;
use crate::kueue::{AdmissionCheck, Workload};
use crate::reconcile::Write;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use std::time::Duration;

/// How often a conflicting write is tried in all.
pub const ATTEMPTS: u32 = 4;

/// Writes status for one field manager.
#[derive(Clone)]
pub struct Writer {
    client: Client,
    field_manager: String,
}

impl Writer {
    /// A writer through `client` as `field_manager`.
    pub fn new(client: Client, field_manager: impl Into<String>) -> Writer {
        Writer {
            client,
            field_manager: field_manager.into(),
        }
    }

    /// Makes one write; `now` stamps a new `Active` condition.
    pub async fn write(&self, write: &Write, now: &str) -> Result<(), kube::Error> {
        let params = PatchParams::apply(&self.field_manager).force();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match write {
                Write::Check {
                    namespace,
                    name,
                    entry,
                    ..
                } => {
                    let api: Api<Workload> = Api::namespaced(self.client.clone(), namespace);
                    let body = check::patch_body(namespace, name, entry);
                    api.patch_status(name, &params, &Patch::Apply(&body))
                        .await
                        .map(drop)
                }
                Write::Active { name } => {
                    let api: Api<AdmissionCheck> = Api::all(self.client.clone());
                    let body = check::active_body(name, now);
                    api.patch_status(name, &params, &Patch::Apply(&body))
                        .await
                        .map(drop)
                }
            };
            match result {
                Err(error) if is_conflict(&error) && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }
}

/// Whether the API server answered 409 Conflict.
pub fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}
