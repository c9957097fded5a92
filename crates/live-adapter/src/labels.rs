//! A Workload → the core's [`Job`]: what a user writes on their Job, under one documented
//! prefix, [`PREFIX`] (`gpu-alloc.dev/`).
//!
//! Each key is looked up, first found wins, in: the Workload's annotations, its labels, then
//! the annotations and labels of its first pod set's template (a Job's
//! `spec.template.metadata`, which Kueue copies into the Workload, so users annotate their
//! Job and the controller needs no watch on Jobs).
//!
//! | key | value | default |
//! |---|---|---|
//! | `tier` | `BRONZE`, `SILVER`, `GOLD` | any tier of the queue |
//! | `allow-upgrade` | `true`/`false`: may run on a higher tier | `false` with a `tier`, else `true` |
//! | `deadline` | RFC 3339 time | none |
//! | `budget` | money in currency units (`12.50`) | no limit |
//! | `budget-mode` | `fixed` or `flex` | `flex` |
//! | `burstable` | `true`/`false` | `false` |
//! | `data-class` | `public`, `internal`, `sensitive` | `internal` |
//! | `runtime` | estimated runtime on the reference GPU (`90m`, `2h`, `1h30m`, `45s`) | the platform's |
//! | `checkpoint-interval`, `restore-cost` | durations | never, `0s` |
//! | `gpu-models` | comma-separated GPU model names | any |
//! | `tenant`, `user` | names | the namespace |
//! | `gpu-fraction` | share of one GPU (`0.25` or `250m`) | from the request |
//! | `gpu-memory` | VRAM a fraction needs, or each whole GPU at least (`8Gi`) | `0` |
//!
//! The request is read from the pod sets: `nvidia.com/gpu` (whole GPUs) or the MPS-shared
//! resource `nvidia.com/gpu.shared` that the NVIDIA device plugin advertises with MPS sharing
//! (one unit = one of the platform's `mps_replicas` clients on a GPU, so `1` of 4 replicas is
//! 250 milli-GPU), `cpu` and `memory`, requests (limits where no request), times the pod
//! count, over every pod set; a job of more than one pod may spread over nodes.

use crate::error::ObjectError;
use crate::kueue::Workload;
use crate::platform::Platform;
use alloc_core::{
    Budget, BudgetKind, CpuMilli, DataClass, GpuModelName, GpuRequest, Job, JobId, LocalQueueName,
    MemMib, MilliGpu, Millis, Money, Resource, TenantName, Tier, Time, UserName, VramMib,
};
use kueue_model::quantity;
use std::collections::BTreeMap;

/// The prefix of every key the controller reads or writes.
pub const PREFIX: &str = "gpu-alloc.dev/";

/// The whole-GPU resource.
pub const GPU: &str = "nvidia.com/gpu";
/// The MPS-shared GPU resource of the NVIDIA device plugin.
pub const SHARED_GPU: &str = "nvidia.com/gpu.shared";

/// The core's id for a Workload: a 53-bit FNV-1a hash of `namespace/name`, stable across
/// restarts and exact in any JSON reader.
pub fn job_id(key: &str) -> JobId {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    JobId(hash & ((1 << 53) - 1))
}

/// Where the keys of one Workload are looked up.
struct Keys<'a> {
    object: String,
    maps: Vec<(&'static str, &'a BTreeMap<String, String>)>,
}

impl<'a> Keys<'a> {
    fn of(workload: &'a Workload) -> Keys<'a> {
        let mut maps = Vec::new();
        if let Some(annotations) = &workload.metadata.annotations {
            maps.push(("metadata.annotations", annotations));
        }
        if let Some(labels) = &workload.metadata.labels {
            maps.push(("metadata.labels", labels));
        }
        if let Some(template) = workload.templates.first() {
            maps.push((
                "spec.podSets[0].template.metadata.annotations",
                &template.annotations,
            ));
            maps.push(("spec.podSets[0].template.metadata.labels", &template.labels));
        }
        Keys {
            object: format!("Workload {}", workload.key()),
            maps,
        }
    }

    /// The value of `key` and the field it came from.
    fn get(&self, key: &str) -> Option<(String, &'a str)> {
        let full = format!("{PREFIX}{key}");
        self.maps.iter().find_map(|(place, map)| {
            map.get(&full)
                .map(|value| (format!("{place}[\"{full}\"]"), value.as_str()))
        })
    }

    fn parse<T>(
        &self,
        key: &str,
        read: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ObjectError> {
        match self.get(key) {
            None => Ok(None),
            Some((field, value)) => read(value.trim())
                .map(Some)
                .map_err(|reason| ObjectError::new(&self.object, field, reason)),
        }
    }
}

/// The job a Workload asks for, its submit time its creation time; `now` stands in for a
/// Workload that has none yet.
pub fn job_of(workload: &Workload, platform: &Platform, now: Time) -> Result<Job, ObjectError> {
    let keys = Keys::of(workload);
    let object = keys.object.clone();
    let namespace = workload.metadata.namespace.as_deref().unwrap_or("default");
    let queue = workload
        .spec
        .queue_name
        .as_deref()
        .filter(|queue| !queue.is_empty())
        .ok_or_else(|| ObjectError::new(&object, "spec.queueName", "no LocalQueue named"))?;
    let request = request_of(workload, platform, &keys)?;
    let min_tier = keys.parse("tier", tier)?;
    let submit_time = workload
        .metadata
        .creation_timestamp
        .as_ref()
        .map_or(now, |time| time_of(time.0.as_millisecond()));
    Ok(Job {
        id: job_id(&workload.key()),
        queue: LocalQueueName::new(format!("{namespace}/{queue}")),
        tenant: TenantName::new(
            keys.parse("tenant", |v| Ok(v.to_string()))?
                .unwrap_or_else(|| namespace.into()),
        ),
        user: UserName::new(
            keys.parse("user", |v| Ok(v.to_string()))?
                .unwrap_or_else(|| namespace.into()),
        ),
        gpu: request.gpu,
        spread: request.pods > 1,
        cpu: CpuMilli(request.cpu),
        memory: MemMib(request.memory),
        min_tier: min_tier.unwrap_or_default(),
        // a job that names no tier runs on any tier of its queue
        allow_upgrade: keys
            .parse("allow-upgrade", boolean)?
            .unwrap_or(min_tier.is_none()),
        allowed_flavors: None,
        gpu_models: keys.parse("gpu-models", |v| {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(GpuModelName::new)
                .collect())
        })?,
        priority: workload.spec.priority.unwrap_or(0),
        runtime: keys
            .parse("runtime", duration)?
            .unwrap_or(platform.default_runtime),
        deadline: keys.parse("deadline", timestamp)?,
        budget: Budget {
            kind: keys
                .parse("budget-mode", budget_mode)?
                .unwrap_or(BudgetKind::Flex),
            limit: keys.parse("budget", money)?,
        },
        burstable: keys.parse("burstable", boolean)?.unwrap_or(false),
        data_class: keys.parse("data-class", data_class)?.unwrap_or_default(),
        checkpoint_interval: keys.parse("checkpoint-interval", duration)?,
        restore_cost: keys.parse("restore-cost", duration)?.unwrap_or(Millis(0)),
        submit_time,
    })
}

/// A time from milliseconds since the Unix epoch (the controller's clock); before it, 0.
pub fn time_of(millis: i64) -> Time {
    Time(u64::try_from(millis).unwrap_or(0))
}

struct Request {
    gpu: GpuRequest,
    pods: u32,
    cpu: u64,
    memory: u64,
}

fn request_of(
    workload: &Workload,
    platform: &Platform,
    keys: &Keys<'_>,
) -> Result<Request, ObjectError> {
    let object = &keys.object;
    let (mut whole, mut shared, mut cpu, mut memory, mut pods) = (0u64, 0u64, 0u64, 0u64, 0u32);
    if workload.spec.pod_sets.is_empty() {
        return Err(ObjectError::new(object, "spec.podSets", "no pod sets"));
    }
    for (set_index, set) in workload.spec.pod_sets.iter().enumerate() {
        pods = pods.saturating_add(set.count);
        let count = u64::from(set.count);
        for (container_index, container) in set.template.spec.containers.iter().enumerate() {
            let here = format!(
                "spec.podSets[{set_index}].template.spec.containers[{container_index}].resources"
            );
            let resources = &container.resources;
            let amount = |name: &str, resource: Resource| -> Result<u64, ObjectError> {
                let (field, value) =
                    match (resources.requests.get(name), resources.limits.get(name)) {
                        (Some(value), _) => ("requests", value),
                        (None, Some(value)) => ("limits", value),
                        (None, None) => return Ok(0),
                    };
                let units = quantity::to_units(value.as_str(), resource).map_err(|error| {
                    ObjectError::new(
                        object,
                        format!("{here}.{field}[\"{name}\"]"),
                        error.to_string(),
                    )
                })?;
                Ok(units.saturating_mul(count))
            };
            whole += amount(GPU, Resource::Gpu)?;
            shared += amount(SHARED_GPU, Resource::Gpu)?;
            cpu += amount("cpu", Resource::Cpu)?;
            memory += amount("memory", Resource::Memory)?;
        }
    }
    let vram = keys
        .parse("gpu-memory", |v| {
            quantity::to_units(v, Resource::Memory).map_err(|e| e.to_string())
        })?
        .unwrap_or(0);
    let fraction = keys.parse("gpu-fraction", |v| {
        let milli = quantity::to_units(v, Resource::Gpu).map_err(|e| e.to_string())?;
        match milli {
            1..=999 => Ok(milli),
            _ => Err(format!(
                "{v:?} is not a share of one GPU (above 0, below 1)"
            )),
        }
    })?;
    let gpu = match (whole, shared, fraction) {
        (0, 0, None) => GpuRequest::None,
        (0, 0, Some(_)) => {
            return Err(ObjectError::new(
                object,
                format!("metadata.annotations[\"{PREFIX}gpu-fraction\"]"),
                format!("a fraction needs a request of {SHARED_GPU} (or {GPU}: 1)"),
            ))
        }
        (whole, 0, None) => {
            if whole % 1000 != 0 {
                return Err(ObjectError::new(
                    object,
                    "spec.podSets",
                    format!("{GPU} must be requested in whole GPUs; ask {SHARED_GPU} for a share"),
                ));
            }
            GpuRequest::Whole {
                count: u32::try_from(whole / 1000).unwrap_or(u32::MAX),
                min_vram: VramMib(vram),
            }
        }
        (_, _, _) if whole > 0 && shared > 0 => {
            return Err(ObjectError::new(
                object,
                "spec.podSets",
                format!("asks for both {GPU} and {SHARED_GPU}"),
            ));
        }
        (whole, shared, fraction) => {
            if pods != 1 {
                return Err(ObjectError::new(
                    object,
                    "spec.podSets",
                    format!("a GPU share is for one pod; this Workload has {pods}"),
                ));
            }
            // `shared` is in milli-units of the shared resource: clients × 1000
            let milli = fraction.unwrap_or(match whole {
                1000 => 1000,
                _ => shared / u64::from(platform.mps_replicas),
            });
            if !(1..=1000).contains(&milli) {
                return Err(ObjectError::new(
                    object,
                    format!(
                        "spec.podSets[0].template.spec.containers[*].resources[\"{SHARED_GPU}\"]"
                    ),
                    format!(
                        "{} MPS clients of {} on one GPU is not a share of one GPU",
                        shared / 1000,
                        platform.mps_replicas
                    ),
                ));
            }
            if milli == 1000 {
                GpuRequest::Whole {
                    count: 1,
                    min_vram: VramMib(vram),
                }
            } else {
                GpuRequest::Fraction {
                    milli: MilliGpu(milli),
                    vram: VramMib(vram),
                }
            }
        }
    };
    Ok(Request {
        gpu,
        pods,
        cpu,
        memory,
    })
}

fn tier(value: &str) -> Result<Tier, String> {
    match value.to_ascii_uppercase().as_str() {
        "BRONZE" => Ok(Tier::Bronze),
        "SILVER" => Ok(Tier::Silver),
        "GOLD" => Ok(Tier::Gold),
        _ => Err(format!("{value:?} is not a tier (BRONZE, SILVER or GOLD)")),
    }
}

fn boolean(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{value:?} is neither true nor false")),
    }
}

fn budget_mode(value: &str) -> Result<BudgetKind, String> {
    match value {
        "fixed" => Ok(BudgetKind::Fixed),
        "flex" => Ok(BudgetKind::Flex),
        _ => Err(format!("{value:?} is neither fixed nor flex")),
    }
}

fn data_class(value: &str) -> Result<DataClass, String> {
    match value {
        "public" => Ok(DataClass::Public),
        "internal" => Ok(DataClass::Internal),
        "sensitive" => Ok(DataClass::Sensitive),
        _ => Err(format!(
            "{value:?} is not a data class (public, internal or sensitive)"
        )),
    }
}

fn timestamp(value: &str) -> Result<Time, String> {
    let parsed: jiff::Timestamp = value
        .parse()
        .map_err(|_| format!("{value:?} is not an RFC 3339 time"))?;
    Ok(time_of(parsed.as_millisecond()))
}

/// Money in currency units with up to six decimals, `12.5` → 12,500,000 micro-units.
fn money(value: &str) -> Result<Money, String> {
    let bad = || format!("{value:?} is not an amount of money such as 12.50");
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let micros: i64 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
    if whole < 0 {
        return Err(format!("{value:?}: a budget is not negative"));
    }
    whole
        .checked_mul(1_000_000)
        .and_then(|m| m.checked_add(micros))
        .map(Money)
        .ok_or_else(bad)
}

/// `90m`, `2h`, `1h30m`, `45s`, `1500ms`, or plain seconds.
pub fn duration(value: &str) -> Result<Millis, String> {
    let bad = || format!("{value:?} is not a duration such as 90m, 2h or 1h30m");
    if let Ok(seconds) = value.parse::<u64>() {
        return Ok(Millis(seconds.saturating_mul(1000)));
    }
    let (mut total, mut digits) = (0u64, String::new());
    let mut chars = value.chars().peekable();
    if value.is_empty() {
        return Err(bad());
    }
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let number: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1
            }
            ('h', _) => 3_600_000,
            ('m', _) => 60_000,
            ('s', _) => 1000,
            _ => return Err(bad()),
        };
        total = number
            .checked_mul(unit)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(Millis(total))
}
