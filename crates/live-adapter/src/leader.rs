//! Leader election on a `coordination.k8s.io` Lease: several replicas run, all watch and keep
//! the core warm, and only the holder of the lease writes. The rule ([`decide`]) is pure; the
//! loop ([`run`]) reads the lease, takes or renews it with the resourceVersion it read (so two
//! replicas cannot both win: the loser's update is a 409), and publishes whether this
//! replica leads.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::{Api, Client};
use std::time::Duration;
use tokio::sync::watch;

/// What a replica does with the lease as it finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nobody holds it, or the holder let it expire: take it.
    Acquire,
    /// We hold it: renew it.
    Renew,
    /// Somebody else holds it and it has not expired.
    Follow {
        /// The holder.
        holder: String,
    },
}

/// The rule: a lease is held by `holderIdentity` until `renewTime` + `leaseDurationSeconds`.
pub fn decide(spec: Option<&LeaseSpec>, me: &str, now: Timestamp) -> Action {
    let Some(spec) = spec else {
        return Action::Acquire;
    };
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder.is_empty() {
        return Action::Acquire;
    }
    if holder == me {
        return Action::Renew;
    }
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(15)));
    let expired = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .is_none_or(|renewed| renewed.0 + duration <= now);
    if expired {
        Action::Acquire
    } else {
        Action::Follow { holder }
    }
}

/// Where the lease is and who we are.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// The Lease's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a lease holds without renewal.
    pub duration: Duration,
}

/// Runs the election until the process ends, publishing leadership on `leading`.
pub async fn run(client: Client, config: LeaseConfig, leading: watch::Sender<bool>) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let period = config.duration / 3;
    loop {
        let won = match step(&api, &config).await {
            Ok(won) => won,
            Err(error) => {
                tracing::warn!(%error, lease = %config.name, "lease update failed");
                false
            }
        };
        if *leading.borrow() != won {
            tracing::info!(leading = won, lease = %config.name, identity = %config.identity, "leadership changed");
        }
        leading.send_replace(won);
        tokio::time::sleep(period).await;
    }
}

async fn step(api: &Api<Lease>, config: &LeaseConfig) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    let current = api.get_opt(&config.name).await?;
    let action = decide(
        current.as_ref().and_then(|l| l.spec.as_ref()),
        &config.identity,
        now,
    );
    let seconds = i32::try_from(config.duration.as_secs()).unwrap_or(15);
    let result = match (action, current) {
        (Action::Follow { .. }, _) => return Ok(false),
        (_, None) => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(config.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            api.create(&PostParams::default(), &lease).await.map(drop)
        }
        (action, Some(mut lease)) => {
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if action == Action::Acquire {
                spec.acquire_time = Some(MicroTime(now));
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
            spec.holder_identity = Some(config.identity.clone());
            spec.lease_duration_seconds = Some(seconds);
            spec.renew_time = Some(MicroTime(now));
            // resourceVersion stays as read: a concurrent update makes this a 409
            api.replace(&config.name, &PostParams::default(), &lease)
                .await
                .map(drop)
        }
    };
    match result {
        Ok(()) => Ok(true),
        Err(error) if crate::apply::is_conflict(&error) => Ok(false),
        Err(error) => Err(error),
    }
}
