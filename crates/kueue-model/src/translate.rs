//! Typed Kueue objects → alloc-core's model. Semantic errors name the object, the field and
//! the line the field is on (found by walking the document's text, see `documents`).

use crate::documents::{self, Step};
use crate::error::{KueueError, ObjectRef, Reason, Result};
use crate::objects::{self, CohortSpec, Envelope, LocalQueueSpec, ResourceFlavorSpec};
use crate::read::{Located, Object};
use crate::{quantity, KueueFlavor, KueueObjects};
use alloc_core::{FlavorName, LocalQueue, LocalQueueName, QueueName};
use std::collections::BTreeSet;
use std::path::Path;

pub(crate) fn key(name: &str) -> Step {
    Step::Key(name.to_string())
}

/// An object being translated: makes errors that point into it.
pub(crate) struct Site<'a> {
    path: &'a Path,
    located: &'a Located<'a>,
    object: ObjectRef,
}

impl Site<'_> {
    /// An error at `steps` inside the object (`spec`, `resourceGroups`, 0, ...).
    pub(crate) fn error(&self, steps: &[Step], reason: impl Into<Reason>) -> KueueError {
        let mut full = self.located.prefix.clone();
        full.extend_from_slice(steps);
        let chunk = self.located.chunk;
        KueueError::new(
            self.path,
            chunk.file_line(documents::line_of(&chunk.text, &full)),
            Some(self.object.clone()),
            documents::display(steps),
            reason.into(),
        )
    }

    /// Refuses an unmodelled field unless it is absent or empty.
    pub(crate) fn refuse(
        &self,
        value: &objects::Unmodelled,
        field: &str,
        why: &'static str,
    ) -> Result<()> {
        if objects::is_empty(value) {
            return Ok(());
        }
        Err(self.error(&[key("spec"), key(field)], Reason::Unsupported(why)))
    }

    pub(crate) fn is_v1beta1(&self) -> bool {
        match &self.located.object {
            Object::ResourceFlavor(o) => o.api_version.ends_with("/v1beta1"),
            Object::ClusterQueue(o) => o.api_version.ends_with("/v1beta1"),
            Object::LocalQueue(o) => o.api_version.ends_with("/v1beta1"),
            Object::Cohort(o) => o.api_version.ends_with("/v1beta1"),
        }
    }
}

/// Names seen so far per kind, to refuse an object defined twice.
#[derive(Default)]
struct Seen {
    names: BTreeSet<(&'static str, String)>,
}

impl Seen {
    fn first<S>(
        &mut self,
        site: &Site<'_>,
        kind: &'static str,
        object: &Envelope<S>,
    ) -> Result<()> {
        if self.names.insert((kind, object.metadata.name.clone())) {
            return Ok(());
        }
        let reason = Reason::DefinedTwice {
            kind,
            name: object.metadata.name.clone(),
        };
        Err(site.error(&[key("metadata"), key("name")], reason))
    }
}

pub(crate) fn translate(path: &Path, located: &[Located<'_>]) -> Result<KueueObjects> {
    let mut out = KueueObjects::default();
    let mut seen = Seen::default();
    for item in located {
        let (kind, name) = match &item.object {
            Object::ResourceFlavor(o) => (o.kind.as_str(), &o.metadata.name),
            Object::ClusterQueue(o) => (o.kind.as_str(), &o.metadata.name),
            Object::LocalQueue(o) => (o.kind.as_str(), &o.metadata.name),
            Object::Cohort(o) => (o.kind.as_str(), &o.metadata.name),
        };
        let site = Site {
            path,
            located: item,
            object: ObjectRef {
                kind: Some(kind.to_string()),
                name: Some(name.clone()),
            },
        };
        match &item.object {
            Object::ResourceFlavor(object) => {
                seen.first(&site, "ResourceFlavor", object)?;
                out.flavors.push(flavor(&site, object)?);
            }
            Object::ClusterQueue(object) => {
                seen.first(&site, "ClusterQueue", &**object)?;
                out.cluster_queues
                    .push(crate::cluster_queue::translate(&site, object)?);
            }
            Object::LocalQueue(object) => {
                let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
                let name = LocalQueueName::new(object.metadata.name.as_str());
                if let Some(earlier) = out.namespaces.get(&name) {
                    let reason = Reason::LocalQueueDefinedTwice {
                        name: name.to_string(),
                        earlier: earlier.clone(),
                        namespace: namespace.to_string(),
                    };
                    return Err(site.error(&[key("metadata"), key("name")], reason));
                }
                out.local_queues.push(local_queue(&site, object)?);
                out.namespaces.insert(name, namespace.to_string());
            }
            Object::Cohort(object) => {
                seen.first(&site, "Cohort", object)?;
                cohort(&site, object)?;
                out.cohorts.push(object.metadata.name.clone());
            }
        }
    }
    Ok(out)
}

fn flavor(site: &Site<'_>, object: &Envelope<ResourceFlavorSpec>) -> Result<KueueFlavor> {
    let spec = object.spec.as_ref();
    if spec.is_some_and(|spec| spec.topology_name.is_some()) {
        let reason =
            Reason::Unsupported("topology-aware scheduling is not modelled by the simulator");
        return Err(site.error(&[key("spec"), key("topologyName")], reason));
    }
    Ok(KueueFlavor {
        name: FlavorName::new(object.metadata.name.as_str()),
        node_labels: spec
            .map(|spec| spec.node_labels.clone())
            .unwrap_or_default(),
    })
}

pub(crate) fn stop_policy(site: &Site<'_>, policy: Option<objects::StopPolicy>) -> Result<()> {
    match policy {
        None | Some(objects::StopPolicy::None) => Ok(()),
        Some(_) => Err(site.error(
            &[key("spec"), key("stopPolicy")],
            Reason::Unsupported("the simulator does not model held or drained queues; use None"),
        )),
    }
}

fn local_queue(site: &Site<'_>, object: &Envelope<LocalQueueSpec>) -> Result<LocalQueue> {
    let Some(spec) = &object.spec else {
        return Err(site.error(&[key("spec")], Reason::MissingClusterQueue));
    };
    stop_policy(site, spec.stop_policy)?;
    site.refuse(
        &spec.fair_sharing,
        "fairSharing",
        "fair sharing is not modelled; tenants carry fair-share weights",
    )?;
    Ok(LocalQueue {
        name: LocalQueueName::new(object.metadata.name.as_str()),
        cluster_queue: QueueName::new(spec.cluster_queue.as_str()),
    })
}

fn cohort(site: &Site<'_>, object: &Envelope<CohortSpec>) -> Result<()> {
    let Some(spec) = &object.spec else {
        return Ok(());
    };
    if spec
        .parent_name
        .as_deref()
        .is_some_and(|parent| !parent.is_empty())
    {
        return Err(site.error(
            &[key("spec"), key("parentName")],
            Reason::HierarchicalCohort,
        ));
    }
    site.refuse(
        &spec.fair_sharing,
        "fairSharing",
        "fair sharing is not modelled; tenants carry fair-share weights",
    )?;
    for (g, group) in spec.resource_groups.iter().enumerate() {
        for (f, flavor) in group.flavors.iter().enumerate() {
            for (r, resource) in flavor.resources.iter().enumerate() {
                let quantities = [
                    ("nominalQuota", Some(&resource.nominal_quota)),
                    ("borrowingLimit", resource.borrowing_limit.as_ref()),
                    ("lendingLimit", resource.lending_limit.as_ref()),
                ];
                for (field, quantity) in quantities {
                    let Some(quantity) = quantity else { continue };
                    let steps = [
                        key("spec"),
                        key("resourceGroups"),
                        Step::Index(g),
                        key("flavors"),
                        Step::Index(f),
                        key("resources"),
                        Step::Index(r),
                        key(field),
                    ];
                    let zero = quantity::is_zero(&quantity.0).map_err(|e| site.error(&steps, e))?;
                    if !zero {
                        return Err(site.error(
                            &steps,
                            Reason::Unsupported(
                                "a Cohort's own quota is not modelled; give the quota to its \
                                 ClusterQueues",
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}
