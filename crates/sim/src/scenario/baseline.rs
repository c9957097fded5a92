//! The policies a scenario runs under, by name: what the department runs today and what the
//! platform offers, all on the same core. A policy here is alloc-core's [`Policy`] plus what
//! the shell controls: how notebooks hold GPUs and the queueing strategy the ClusterQueues
//! are configured with.
//!
//! | name | queueing | order | preemption | burst | notebooks |
//! |---|---|---|---|---|---|
//! | `static-notebook` | BestEffortFIFO | priority, FIFO | as `kueue-like` | never | a whole GPU per open session |
//! | `fifo` | StrictFIFO | priority, FIFO | none | never | per cell |
//! | `kueue-like` | BestEffortFIFO | priority, FIFO | Kueue's: each queue's `spec.preemption`; lower priority + cohort reclaim for a queue without one; no guards | never | per cell |
//! | `never-burst` | as configured | scored | the queues' rules, least lost work, the platform's guards | never | per cell |
//! | `always-burst` | as configured | scored | the same | at once, by the burst rule | per cell |
//! | `tiered-burst` | as configured | scored | the same | by the burst rule, after 30 min, sooner near a deadline, at once while a deadline job that may not burst waits for its flavors | per cell |
//!
//! Every alloc-core preset (`starburst-gpus`, `scored-fair-share`, …) is accepted too. A name
//! may carry overrides after `@`: `tiered-burst@keep-alive=10m,warm-pool=auto,burst-after=15m`
//! (`warm-pool`: `auto`, `0` or a count, per-cell policies only); the guards
//! against preemption that does not pay are `max-loss`, `max-evictions`, `min-run` and
//! `eviction-cost`; `backfill=off|on|<reservations per flavor>` and `backfill-min-gpus=<n>`
//! set alloc-core's reservations for large jobs (`Policy::backfill`).

use crate::engine::NotebookHold;
use crate::error::{Result, SimError};
use alloc_core::burst::{BurstMode, BurstPolicy, Rescue, Term, WaitRule};
use alloc_core::placement::MpsPacking;
use alloc_core::preemption::{PreemptionPolicy, ReclaimWithinCohort, WithinClusterQueue};
use alloc_core::score::{Ordering, ScoreWeights};
use alloc_core::warm_pool::MAX_POOL;
use alloc_core::{Millis, Policy, QueueingStrategy, Time, WarmPoolSize};

/// The six policies `sim compare` runs when none are named.
pub const BASELINES: [&str; 6] = [
    "static-notebook",
    "fifo",
    "kueue-like",
    "never-burst",
    "always-burst",
    "tiered-burst",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The name as given, overrides included: what outputs and reports call the run.
    pub label: String,
    pub policy: Policy,
    pub notebook_hold: NotebookHold,
    /// Every ClusterQueue's strategy, overriding the fleet's; `None` keeps it.
    pub queueing: Option<QueueingStrategy>,
    /// Keep-alive for per-cell notebook leases, overriding the scenario's.
    pub keep_alive: Option<Millis>,
    /// The notebook warm pool's size, overriding the scenario's.
    pub warm_pool: Option<WarmPoolSize>,
    /// Whether a session's first lease starts when it opens, overriding the scenario's.
    pub lease_on_open: Option<bool>,
}

/// Resolves `spec` (`name` or `name@key=value,…`).
pub fn baseline(spec: &str) -> Result<Baseline> {
    let (name, overrides) = spec.split_once('@').unwrap_or((spec, ""));
    let mut baseline = named(name).ok_or_else(|| SimError::BadArgument {
        flag: "--policy".into(),
        reason: format!("unknown policy {name:?}; known: {}", known().join(", ")),
    })?;
    baseline.label = spec.to_string();
    for pair in overrides.split(',').filter(|p| !p.is_empty()) {
        apply(&mut baseline, pair).map_err(|reason| SimError::BadArgument {
            flag: "--policy".into(),
            reason: format!("{spec}: {reason}"),
        })?;
    }
    Ok(baseline)
}

/// Policies from a comma-split list: an item `key=value` without `@` is one more override of
/// the policy before it (`tiered-burst@keep-alive=5m`, `warm-pool=auto` →
/// `tiered-burst@keep-alive=5m,warm-pool=auto`), since no policy name holds `=`. One before any
/// policy is kept as it is, and refused as an unknown policy.
pub fn join_overrides(items: &[String]) -> Vec<String> {
    let mut policies: Vec<String> = Vec::new();
    for item in items {
        match policies.last_mut() {
            Some(last) if item.contains('=') && !item.contains('@') => {
                last.push(if last.contains('@') { ',' } else { '@' });
                last.push_str(item);
            }
            _ => policies.push(item.clone()),
        }
    }
    policies
}

/// Every name [`baseline`] accepts.
pub fn known() -> Vec<String> {
    let mut names: Vec<String> = BASELINES.iter().map(|s| s.to_string()).collect();
    for name in Policy::preset_names() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn named(name: &str) -> Option<Baseline> {
    let platform = |policy: Policy| Baseline {
        label: name.to_string(),
        policy,
        notebook_hold: NotebookHold::PerCell,
        queueing: None,
        keep_alive: None,
        warm_pool: None,
        lease_on_open: None,
    };
    // Kueue's behaviour: the queues' own rules (from their objects), these for a queue the
    // short fleet form leaves without, and none of the platform's guards.
    let kueue_preemption = PreemptionPolicy {
        enabled: true,
        within_cluster_queue: WithinClusterQueue::LowerPriority,
        reclaim_within_cohort: ReclaimWithinCohort::Any,
        ..PreemptionPolicy::default()
    };
    Some(match name {
        "static-notebook" => Baseline {
            notebook_hold: NotebookHold::WholeSession,
            ..named("kueue-like")?
        },
        "fifo" => Baseline {
            queueing: Some(QueueingStrategy::StrictFIFO),
            ..platform(Policy::default())
        },
        "kueue-like" => Baseline {
            queueing: Some(QueueingStrategy::BestEffortFIFO),
            ..platform(Policy {
                preemption: kueue_preemption,
                ..Policy::default()
            })
        },
        other => platform(Policy::preset(other)?),
    })
}

/// One `key=value` override.
fn apply(baseline: &mut Baseline, pair: &str) -> std::result::Result<(), String> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| format!("override {pair:?} is not key=value"))?;
    match key {
        "keep-alive" => baseline.keep_alive = Some(duration(value)?),
        "warm-pool" => {
            if baseline.notebook_hold != NotebookHold::PerCell {
                return Err("warm-pool needs a policy that leases GPUs per cell".into());
            }
            baseline.warm_pool = Some(warm_pool(value)?);
        }
        "lease-on-open" => {
            if baseline.notebook_hold != NotebookHold::PerCell {
                return Err("lease-on-open needs a policy that leases GPUs per cell".into());
            }
            baseline.lease_on_open = Some(match value {
                "yes" => true,
                "no" => false,
                other => return Err(format!("lease-on-open {other:?}: yes or no")),
            });
        }
        "burst-after" => {
            let burst = &mut baseline.policy.burst;
            if burst.mode == BurstMode::Never {
                return Err("burst-after needs a policy that bursts".into());
            }
            burst.mode = BurstMode::Threshold;
            burst.wait = WaitRule::Constant {
                wait: duration(value)?,
            };
        }
        "packing" => {
            baseline.policy.mps_packing = match value {
                "best-fit" => MpsPacking::BestFit,
                "worst-fit" => MpsPacking::WorstFit,
                "fgd" => MpsPacking::Fgd,
                "fgd-pack" => MpsPacking::FgdPack,
                other => {
                    return Err(format!(
                        "unknown packing {other:?}; known: best-fit, worst-fit, fgd, fgd-pack"
                    ))
                }
            }
        }
        "rescue" | "reserve" | "rescue-cap" | "queue-ahead" | "term" | "pace" | "displace" => {
            rescue_knob(&mut baseline.policy.burst, key, value)?
        }
        "order" => {
            baseline.policy.ordering =
                Ordering::Scored(ScoreWeights::preset(value).ok_or_else(|| {
                    format!(
                        "unknown order {value:?}; known: {}",
                        ScoreWeights::preset_names().join(", ")
                    )
                })?)
        }
        "priority-weight" | "aging-weight" | "deadline-weight" | "fair-share-weight"
        | "budget-weight" => {
            let weight: f64 = value
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| format!("{key} {value:?} is not a number ≥ 0"))?;
            let mut weights = match baseline.policy.ordering {
                Ordering::Scored(weights) => weights,
                Ordering::PriorityFifo => ScoreWeights::BALANCED,
            };
            *match key {
                "priority-weight" => &mut weights.priority,
                "aging-weight" => &mut weights.aging_per_hour,
                "deadline-weight" => &mut weights.deadline,
                "fair-share-weight" => &mut weights.fair_share,
                _ => &mut weights.budget,
            } = weight;
            baseline.policy.ordering = Ordering::Scored(weights);
        }
        "min-run" => baseline.policy.preemption.min_run = duration(value)?,
        "max-evictions" => {
            baseline.policy.preemption.max_evictions = match value {
                "none" => None,
                count => Some(
                    count
                        .parse()
                        .map_err(|_| format!("max-evictions {count:?} is not a count or none"))?,
                ),
            }
        }
        "max-loss" => {
            baseline.policy.preemption.max_loss = match value {
                "none" => None,
                loss => Some(duration(loss)?),
            }
        }
        "protect-deadlines" => {
            baseline.policy.preemption.protect_deadlines = match value {
                "on" => true,
                "off" => false,
                other => return Err(format!("protect-deadlines {other:?}: on or off")),
            }
        }
        "eviction-cost" => {
            baseline.policy.preemption.cost_grows_with_evictions = match value {
                "grows" => true,
                "flat" => false,
                other => return Err(format!("eviction-cost {other:?}: grows or flat")),
            }
        }
        "backfill" => {
            let backfill = &mut baseline.policy.backfill;
            match value {
                "off" => backfill.enabled = false,
                "on" => backfill.enabled = true,
                count => {
                    backfill.per_flavor =
                        count.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("backfill {count:?}: off, on or a count above 0")
                        })?;
                    backfill.enabled = true;
                }
            }
        }
        "backfill-min-gpus" => {
            baseline.policy.backfill.min_gpus = value
                .parse()
                .map_err(|_| format!("backfill-min-gpus {value:?} is not a count"))?;
        }
        other => {
            return Err(format!(
                "unknown override {other:?}; known: keep-alive, warm-pool, lease-on-open, \
                 burst-after, packing, min-run, max-evictions, max-loss, eviction-cost, \
                 protect-deadlines, backfill, backfill-min-gpus, order, \
                 rescue, reserve, rescue-cap, queue-ahead, term, pace, displace"
            ))
        }
    }
    Ok(())
}

/// `auto` or a count of slices per class of sessions (0: no pool).
fn warm_pool(text: &str) -> std::result::Result<WarmPoolSize, String> {
    if text == "auto" {
        return Ok(WarmPoolSize::Auto);
    }
    match text.parse::<u32>() {
        Ok(count) if count <= MAX_POOL => Ok(WarmPoolSize::Fixed(count)),
        Ok(count) => Err(format!(
            "warm-pool {count}: at most {MAX_POOL} slices per class of sessions"
        )),
        Err(_) => Err(format!(
            "warm-pool {text:?} is not auto or a count of slices (0: no pool)"
        )),
    }
}

/// The rescue rule's overrides: `rescue=on|off`, `reserve=90%`, `rescue-cap=10%`,
/// `queue-ahead=on|off`, `term=<duration>` (the budgets' term, from the start of the run; the
/// run's span when not given), `pace=off|<head start>%` (spend evenly over the term, that
/// far ahead of an even pace) and `displace=on|off` (rescue by displacement).
fn rescue_knob(burst: &mut BurstPolicy, key: &str, value: &str) -> std::result::Result<(), String> {
    if burst.mode != BurstMode::Threshold {
        return Err(format!("{key} needs a policy that bursts after a wait"));
    }
    if key == "rescue" {
        burst.rescue = match value {
            "on" => Some(burst.rescue.unwrap_or_default()),
            "off" => None,
            other => return Err(format!("rescue {other:?}: on or off")),
        };
        return Ok(());
    }
    let rescue = burst.rescue.get_or_insert_with(Rescue::default);
    match key {
        "reserve" => rescue.reserve_percent = percent(key, value)?,
        "rescue-cap" => rescue.max_rescue_percent = percent(key, value)?,
        "queue-ahead" => {
            rescue.count_queue_ahead = match value {
                "on" => true,
                "off" => false,
                other => return Err(format!("queue-ahead {other:?}: on or off")),
            }
        }
        "displace" => {
            rescue.displace = match value {
                "on" => true,
                "off" => false,
                other => return Err(format!("displace {other:?}: on or off")),
            }
        }
        "term" => {
            let over = duration(value)?;
            if over == Millis::ZERO {
                return Err("term needs a duration longer than 0".into());
            }
            rescue.term = Some(Term {
                start: Time(0),
                over,
            });
        }
        _ => {
            rescue.pace_ahead_percent = match value {
                "off" => None,
                ahead => Some(percent("pace's head start", ahead)?),
            }
        }
    }
    Ok(())
}

/// `60%` (or `60`): a whole percentage from 0 to 100.
fn percent(what: &str, text: &str) -> std::result::Result<u32, String> {
    text.trim_end_matches('%')
        .parse::<u32>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| format!("{what} {text:?} is not a percentage from 0% to 100%"))
}

/// `250ms`, `90s`, `10m`, `2h`, `3d`, `16w`: a number and its unit (a bare number other than 0 is
/// refused: `keep-alive=5` could mean 5 ms or 5 minutes). At most ten years.
pub fn duration(text: &str) -> std::result::Result<Millis, String> {
    let bad = || format!("{text:?} is not a duration like 250ms, 90s, 10m, 2h, 3d or 16w");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(index) => text.split_at(index),
        None if text.parse::<f64>() == Ok(0.0) => (text, "ms"),
        None => {
            return Err(format!(
                "{text:?} needs a unit: {text}ms, {text}s, {text}m or {text}h"
            ))
        }
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        "w" => 604_800_000.0,
        _ => return Err(bad()),
    };
    let millis = value * scale;
    if !(millis.is_finite() && millis >= 0.0) {
        return Err(bad());
    }
    crate::limits::ms(millis.round() as u64)?;
    Ok(Millis(millis.round() as u64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_six_baselines_resolve_and_differ() {
        let all: Vec<Baseline> = BASELINES.iter().map(|n| baseline(n).unwrap()).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(
                    (a.policy.clone(), a.notebook_hold, a.queueing)
                        != (b.policy.clone(), b.notebook_hold, b.queueing),
                    "{} and {} are the same policy",
                    a.label,
                    b.label
                );
            }
        }
        assert_eq!(
            baseline("static-notebook").unwrap().notebook_hold,
            NotebookHold::WholeSession
        );
        assert_eq!(
            baseline("fifo").unwrap().queueing,
            Some(QueueingStrategy::StrictFIFO)
        );
        assert!(baseline("kueue-like").unwrap().policy.preemption.enabled);
        assert_eq!(
            baseline("kueue-like").unwrap().policy.burst.mode,
            BurstMode::Never
        );
    }

    #[test]
    fn overrides_after_at() {
        let b = baseline("tiered-burst@keep-alive=10m,burst-after=90s").unwrap();
        assert_eq!(b.label, "tiered-burst@keep-alive=10m,burst-after=90s");
        assert_eq!(b.keep_alive, Some(Millis::minutes(10)));
        assert_eq!(
            b.policy.burst.wait,
            WaitRule::Constant {
                wait: Millis::seconds(90)
            }
        );
        assert!(baseline("never-burst@burst-after=10m").is_err());
        assert!(baseline("tiered-burst@colour=red").is_err());
        assert!(baseline("tiered-burst@keep-alive=soon").is_err());
        let b = baseline("tiered-burst@keep-alive=5m,warm-pool=auto").unwrap();
        assert_eq!(b.warm_pool, Some(WarmPoolSize::Auto));
        let b = baseline("tiered-burst@warm-pool=0").unwrap();
        assert_eq!(b.warm_pool, Some(WarmPoolSize::Fixed(0)));
        let b = baseline("tiered-burst@warm-pool=3").unwrap();
        assert_eq!(b.warm_pool, Some(WarmPoolSize::Fixed(3)));
        assert_eq!(baseline("tiered-burst").unwrap().warm_pool, None);
        let b = baseline("tiered-burst@lease-on-open=no").unwrap();
        assert_eq!(b.lease_on_open, Some(false));
        assert!(baseline("tiered-burst@lease-on-open=maybe").is_err());
        assert!(baseline("static-notebook@lease-on-open=yes").is_err());
        for bad in [
            "tiered-burst@warm-pool=lots",
            "tiered-burst@warm-pool=-1",
            "tiered-burst@warm-pool=65",
            "static-notebook@warm-pool=auto",
        ] {
            let error = baseline(bad).unwrap_err().to_string();
            assert!(error.contains("warm-pool"), "{bad}: {error}");
        }
        assert!(baseline("no-such-policy").is_err());
        assert!(baseline("starburst-gpus").is_ok());
    }

    #[test]
    fn a_split_list_keeps_each_policys_overrides() {
        let items: Vec<String> = [
            "static-notebook",
            "tiered-burst@keep-alive=5m",
            "warm-pool=auto",
            "tiered-burst",
            "warm-pool=2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            join_overrides(&items),
            [
                "static-notebook",
                "tiered-burst@keep-alive=5m,warm-pool=auto",
                "tiered-burst@warm-pool=2"
            ]
        );
        let orphan = join_overrides(&["warm-pool=2".to_string()]);
        assert_eq!(orphan, ["warm-pool=2"]);
        assert!(baseline(&orphan[0]).is_err());
    }

    #[test]
    fn weight_overrides_change_one_weight_of_the_score() {
        let scored = |name: &str| match baseline(name).unwrap().policy.ordering {
            Ordering::Scored(weights) => weights,
            Ordering::PriorityFifo => panic!("{name}: not scored"),
        };
        let weights = scored("tiered-burst@order=deadline-first,aging-weight=0.25");
        assert_eq!(
            weights,
            ScoreWeights {
                aging_per_hour: 0.25,
                ..ScoreWeights::DEADLINE_FIRST
            }
        );
        // a priority order becomes the balanced score with that weight
        let weights = scored("never-burst@deadline-weight=4");
        assert_eq!(
            weights,
            ScoreWeights {
                deadline: 4.0,
                ..ScoreWeights::BALANCED
            }
        );
        let weights = scored("tiered-burst@priority-weight=2,fair-share-weight=0,budget-weight=1");
        assert_eq!(
            (weights.priority, weights.fair_share, weights.budget),
            (2.0, 0.0, 1.0)
        );
        for bad in ["-1", "lots", "inf", "NaN"] {
            let error = baseline(&format!("tiered-burst@deadline-weight={bad}"))
                .unwrap_err()
                .to_string();
            assert!(error.contains("deadline-weight"), "{bad}: {error}");
        }
    }

    #[test]
    fn preemption_guard_overrides() {
        let default = baseline("tiered-burst").unwrap().policy.preemption;
        assert_eq!(default, PreemptionPolicy::platform());
        let b = baseline("tiered-burst@max-loss=none").unwrap();
        assert_eq!(b.policy.preemption.max_loss, None);
        let b = baseline("tiered-burst@max-loss=10m").unwrap();
        assert_eq!(b.policy.preemption.max_loss, Some(Millis::minutes(10)));
        let b = baseline("tiered-burst@max-evictions=2").unwrap();
        assert_eq!(b.policy.preemption.max_evictions, Some(2));
        let b = baseline("tiered-burst@max-evictions=none").unwrap();
        assert_eq!(b.policy.preemption.max_evictions, None);
        let b = baseline("tiered-burst@min-run=15m").unwrap();
        assert_eq!(b.policy.preemption.min_run, Millis::minutes(15));
        let b = baseline("tiered-burst@eviction-cost=flat").unwrap();
        assert!(!b.policy.preemption.cost_grows_with_evictions);
        // Kueue's behaviour has none of the guards
        let kueue = baseline("kueue-like").unwrap().policy.preemption;
        assert_eq!((kueue.max_loss, kueue.max_evictions), (None, None));
        for bad in [
            "tiered-burst@max-evictions=many",
            "tiered-burst@max-loss=soon",
            "tiered-burst@eviction-cost=steep",
        ] {
            assert!(baseline(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packing_override() {
        assert_eq!(
            baseline("default").unwrap().policy.mps_packing,
            MpsPacking::FgdPack
        );
        let b = baseline("default@packing=best-fit").unwrap();
        assert_eq!(b.policy.mps_packing, MpsPacking::BestFit);
        assert_eq!(
            baseline("kueue-like@packing=fgd")
                .unwrap()
                .policy
                .mps_packing,
            MpsPacking::Fgd
        );
        assert!(baseline("default@packing=tight").is_err());
    }

    #[test]
    fn backfill_overrides() {
        assert!(!baseline("tiered-burst").unwrap().policy.backfill.enabled);
        let on = baseline("tiered-burst@backfill=on")
            .unwrap()
            .policy
            .backfill;
        assert_eq!(on, alloc_core::Backfill::easy());
        let two = baseline("never-burst@backfill=2").unwrap().policy.backfill;
        assert!(two.enabled && two.per_flavor == 2);
        let large = baseline("never-burst@backfill-min-gpus=5")
            .unwrap()
            .policy
            .backfill;
        assert_eq!(large.min_gpus, 5);
        assert!(baseline("never-burst@backfill=0").is_err());
        assert!(baseline("never-burst@backfill=maybe").is_err());
        assert!(baseline("never-burst@backfill-min-gpus=x").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration("1.5h"), Ok(Millis::minutes(90)));
        assert_eq!(duration("250ms"), Ok(Millis(250)));
        assert_eq!(duration("0"), Ok(Millis(0)));
        assert!(duration("-1m").is_err());
        assert!(duration("m").is_err());
    }
}
