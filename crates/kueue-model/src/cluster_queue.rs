//! A Kueue ClusterQueue → alloc-core's `ClusterQueue`, its preemption settings included.

use crate::documents::Step;
use crate::error::{Reason, Result};
use crate::objects::{self, ClusterQueueSpec, Envelope, ResourceQuota};
use crate::quantity;
use crate::translate::{key, Site};
use alloc_core::{
    BorrowWithinCohort, BorrowWithinCohortPolicy, ClusterQueue, CohortName, FlavorFungibility,
    FlavorName, FlavorQuotas, QueueName, QueuePreemption, Quota, ReclaimWithinCohort, Resource,
    WhenCanBorrow, WhenCanPreempt,
};
use std::collections::BTreeMap;

const NOT_SELECTING: &str = "the simulator sends every LocalQueue's jobs to its ClusterQueue, \
                             so only an empty selector ({}, all namespaces) is supported";
const NO_CHECKS: &str = "admission checks are not modelled by the simulator";

pub(crate) fn translate(
    site: &Site<'_>,
    object: &Envelope<ClusterQueueSpec>,
) -> Result<ClusterQueue> {
    let default = ClusterQueueSpec::default();
    let spec = object.spec.as_ref().unwrap_or(&default);
    site.refuse(&spec.namespace_selector, "namespaceSelector", NOT_SELECTING)?;
    site.refuse(&spec.admission_checks, "admissionChecks", NO_CHECKS)?;
    site.refuse(
        &spec.admission_checks_strategy,
        "admissionChecksStrategy",
        NO_CHECKS,
    )?;
    site.refuse(
        &spec.fair_sharing,
        "fairSharing",
        "fair sharing between ClusterQueues is not modelled; tenants carry fair-share weights",
    )?;
    site.refuse(
        &spec.admission_scope,
        "admissionScope",
        "admission scopes are not modelled",
    )?;
    site.refuse(
        &spec.concurrent_admission_policy,
        "concurrentAdmissionPolicy",
        "concurrent admission is not modelled",
    )?;
    crate::translate::stop_policy(site, spec.stop_policy)?;
    let cohort = cohort(site, spec)?;
    let mut flavors: Vec<FlavorQuotas> = Vec::new();
    for (g, group) in spec.resource_groups.iter().enumerate() {
        for (f, flavor) in group.flavors.iter().enumerate() {
            let at = |rest: &[Step]| {
                let mut steps = vec![
                    key("spec"),
                    key("resourceGroups"),
                    Step::Index(g),
                    key("flavors"),
                    Step::Index(f),
                ];
                steps.extend_from_slice(rest);
                steps
            };
            let name = FlavorName::new(flavor.name.as_str());
            if flavors.iter().any(|earlier| earlier.flavor == name) {
                let reason = Reason::FlavorListedTwice(name.to_string());
                return Err(site.error(&at(&[key("name")]), reason));
            }
            let mut resources = BTreeMap::new();
            for (r, quota) in flavor.resources.iter().enumerate() {
                let here = at(&[key("resources"), Step::Index(r)]);
                if !group.covered_resources.contains(&quota.name) {
                    let reason = Reason::NotCovered(quota.name.clone());
                    return Err(site.error(&here, reason));
                }
                let Some((resource, amount)) = resource_quota(site, &here, quota)? else {
                    continue;
                };
                if amount
                    .lending_limit
                    .is_some_and(|lend| lend > amount.nominal)
                {
                    let steps = [here.as_slice(), &[key("lendingLimit")]].concat();
                    return Err(site.error(&steps, Reason::LendingAboveNominal));
                }
                if cohort.is_none() {
                    for (field, limit) in [
                        ("borrowingLimit", amount.borrowing_limit),
                        ("lendingLimit", amount.lending_limit),
                    ] {
                        if limit.is_some() {
                            let steps = [here.as_slice(), &[key(field)]].concat();
                            return Err(site.error(&steps, Reason::NeedsCohort));
                        }
                    }
                }
                if resources.insert(resource, amount).is_some() {
                    let reason = Reason::ResourceTwice {
                        resource,
                        flavor: name.to_string(),
                    };
                    return Err(site.error(&[here.as_slice(), &[key("name")]].concat(), reason));
                }
            }
            flavors.push(FlavorQuotas {
                flavor: name,
                resources,
            });
        }
    }
    let queue = ClusterQueue {
        name: QueueName::new(object.metadata.name.as_str()),
        cohort,
        strategy: spec.queueing_strategy.unwrap_or_default(),
        flavors,
        fungibility: fungibility(site, spec)?,
        preemption: Some(preemption(site, spec)?),
    };
    Ok(queue)
}

/// v1beta1 calls the field `cohort`, v1beta2 `cohortName`; the other version's name would be
/// dropped by Kubernetes without a word, so it is an error here.
fn cohort(site: &Site<'_>, spec: &ClusterQueueSpec) -> Result<Option<CohortName>> {
    let (used, wrong, right) = if site.is_v1beta1() {
        (&spec.cohort, ("cohortName", &spec.cohort_name), "cohort")
    } else {
        (&spec.cohort_name, ("cohort", &spec.cohort), "cohortName")
    };
    if wrong.1.is_some() {
        let reason = Reason::CohortFieldName(right);
        return Err(site.error(&[key("spec"), key(wrong.0)], reason));
    }
    Ok(used
        .as_deref()
        .filter(|name| !name.is_empty())
        .map(CohortName::new))
}

/// The alloc-core resource a Kubernetes resource name is counted as.
fn resource_kind(name: &str) -> Option<Resource> {
    match name {
        "cpu" => Some(Resource::Cpu),
        "memory" => Some(Resource::Memory),
        _ if name.ends_with("/gpu") => Some(Resource::Gpu),
        _ => None,
    }
}

/// One resource's quota in alloc-core units; `None` for an unmodelled resource with zero quota.
fn resource_quota(
    site: &Site<'_>,
    here: &[Step],
    quota: &ResourceQuota,
) -> Result<Option<(Resource, Quota)>> {
    let fields = [
        ("nominalQuota", Some(&quota.nominal_quota)),
        ("borrowingLimit", quota.borrowing_limit.as_ref()),
        ("lendingLimit", quota.lending_limit.as_ref()),
    ];
    let Some(resource) = resource_kind(&quota.name) else {
        for (field, value) in fields {
            let Some(value) = value else { continue };
            let steps = [here, &[key(field)]].concat();
            if !quantity::is_zero(&value.0).map_err(|e| site.error(&steps, e))? {
                let reason = Reason::UnmodelledResource(quota.name.clone());
                return Err(site.error(&[here, &[key("name")]].concat(), reason));
            }
        }
        return Ok(None);
    };
    let mut amounts = [None; 3];
    for ((field, value), amount) in fields.into_iter().zip(&mut amounts) {
        let Some(value) = value else { continue };
        let steps = [here, &[key(field)]].concat();
        *amount =
            Some(quantity::to_quota_units(&value.0, resource).map_err(|e| site.error(&steps, e))?);
    }
    let [nominal, borrowing_limit, lending_limit] = amounts;
    let quota = Quota {
        nominal: nominal.unwrap_or(0),
        borrowing_limit,
        lending_limit,
    };
    Ok(Some((resource, quota)))
}

fn fungibility(site: &Site<'_>, spec: &ClusterQueueSpec) -> Result<FlavorFungibility> {
    let Some(given) = &spec.flavor_fungibility else {
        return Ok(FlavorFungibility::default());
    };
    let at = |field: &str| [key("spec"), key("flavorFungibility"), key(field)];
    if given.preference.is_some() {
        let reason =
            Reason::Unsupported("alloc-core follows whenCanBorrow and whenCanPreempt only");
        return Err(site.error(&at("preference"), reason));
    }
    let v1beta1 = site.is_v1beta1();
    let renamed =
        |field: &str, old: &'static str| site.error(&at(field), Reason::RenamedInV1beta2(old));
    let when_can_borrow = match given.when_can_borrow {
        None => WhenCanBorrow::default(),
        Some(objects::WhenCanBorrow::MayStopSearch) => WhenCanBorrow::MayStopSearch,
        Some(objects::WhenCanBorrow::Borrow) if v1beta1 => WhenCanBorrow::MayStopSearch,
        Some(objects::WhenCanBorrow::Borrow) => return Err(renamed("whenCanBorrow", "Borrow")),
        Some(objects::WhenCanBorrow::TryNextFlavor) => WhenCanBorrow::TryNextFlavor,
    };
    let when_can_preempt = match given.when_can_preempt {
        None => WhenCanPreempt::default(),
        Some(objects::WhenCanPreempt::MayStopSearch) => WhenCanPreempt::MayStopSearch,
        Some(objects::WhenCanPreempt::Preempt) if v1beta1 => WhenCanPreempt::MayStopSearch,
        Some(objects::WhenCanPreempt::Preempt) => return Err(renamed("whenCanPreempt", "Preempt")),
        Some(objects::WhenCanPreempt::TryNextFlavor) => WhenCanPreempt::TryNextFlavor,
    };
    Ok(FlavorFungibility {
        when_can_borrow,
        when_can_preempt,
    })
}

/// `spec.preemption` with Kueue's defaults (`Never`) for what is absent. Kueue refuses a
/// `borrowWithinCohort` policy without `reclaimWithinCohort`, and so does this.
fn preemption(site: &Site<'_>, spec: &ClusterQueueSpec) -> Result<QueuePreemption> {
    let Some(given) = &spec.preemption else {
        return Ok(QueuePreemption::KUEUE_DEFAULT);
    };
    let default = QueuePreemption::KUEUE_DEFAULT;
    let borrow = given.borrow_within_cohort.as_ref();
    let rules = QueuePreemption {
        within_cluster_queue: given
            .within_cluster_queue
            .unwrap_or(default.within_cluster_queue),
        reclaim_within_cohort: given
            .reclaim_within_cohort
            .unwrap_or(default.reclaim_within_cohort),
        borrow_within_cohort: BorrowWithinCohort {
            policy: borrow
                .and_then(|b| b.policy)
                .unwrap_or(default.borrow_within_cohort.policy),
            max_priority_threshold: borrow.and_then(|b| b.max_priority_threshold),
        },
    };
    if rules.reclaim_within_cohort == ReclaimWithinCohort::Never
        && rules.borrow_within_cohort.policy != BorrowWithinCohortPolicy::Never
    {
        let steps = [
            key("spec"),
            key("preemption"),
            key("borrowWithinCohort"),
            key("policy"),
        ];
        return Err(site.error(&steps, Reason::BorrowWithoutReclaim));
    }
    Ok(rules)
}
