//! Step 1 of the cycle: reject what can never run. Everything but the user's and tenant's caps
//! depends only on the job's local queue and request, the configuration and the fleet's GPU
//! models — none of which a cycle changes — so it is worked out once per request class and
//! kept, in the cycle's memo and across cycles (`screenings`).

use crate::classes::ClassId;
use crate::decision::{FlavorMiss, RejectReason};
use crate::flavors;
use crate::memo::{CycleMemo, Screened};
use crate::model::{Config, Flavor, GpuRequest, Job};
use crate::quota::{self, QuotaView};
use crate::screenings::Screening;
use crate::units::MilliGpu;
use crate::view::View;
use std::cell::OnceCell;

impl View<'_> {
    /// Step 1: what can never run is rejected with the reason; otherwise the index of the
    /// job's screening in `memo.screens`. `class` is the job's request class.
    pub(crate) fn screen<'c>(
        &self,
        config: &'c Config,
        job: &Job,
        class: ClassId,
        memo: &mut CycleMemo<'c>,
    ) -> Result<usize, RejectReason> {
        let index = match memo.screened.get(class.index()) {
            Some(Some(Ok(index))) => *index,
            Some(Some(Err(reason))) => return Err(reason.clone()),
            // A class opened after the memo was sized has no slot: worked out, not kept.
            slot => {
                let has_slot = slot.is_some();
                let screened = self.screen_class(config, job, class, memo);
                if has_slot {
                    memo.screened[class.index()] = Some(screened.clone());
                }
                screened?
            }
        };
        let requested = job.gpu.milli();
        // The user's cap first, then the tenant's; the name is formatted only for a rejection,
        // as every pending job passes here every cycle.
        let user_cap = config.users.get(&job.user).and_then(|u| u.max_gpus);
        if let Some(max) = user_cap.filter(|max| requested > *max) {
            return Err(RejectReason::ExceedsCap {
                who: format!("user {}", job.user),
                requested,
                max,
            });
        }
        let tenant_cap = config.tenants.get(&job.tenant).and_then(|t| t.max_gpus);
        if let Some(max) = tenant_cap.filter(|max| requested > *max) {
            return Err(RejectReason::ExceedsCap {
                who: format!("tenant {}", job.tenant),
                requested,
                max,
            });
        }
        Ok(index)
    }

    /// The class's screening: as kept from an earlier cycle, or worked out and handed to the
    /// scheduler to keep (only by a memo that keeps answers: the memo-free reference
    /// screens afresh).
    fn screen_class<'c>(
        &self,
        config: &'c Config,
        job: &Job,
        class: ClassId,
        memo: &mut CycleMemo<'c>,
    ) -> Result<usize, RejectReason> {
        if !memo.keeps() {
            return self.screen_request(config, job, memo);
        }
        match self.screenings.get(class) {
            Some(Ok(kept)) => {
                if let Some(index) = memo.restore(kept) {
                    return Ok(index);
                }
            }
            Some(Err(reason)) => return Err(reason.clone()),
            None => {}
        }
        let screened = self.screen_request(config, job, memo);
        let answer = match &screened {
            Ok(index) => memo.screening(*index).map(Ok),
            Err(reason) => Some(Err(reason.clone())),
        };
        if let Some(answer) = answer {
            memo.fresh.push((class, answer));
        }
        screened
    }

    /// What screening `job`'s request afresh gives, as the scheduler would keep it: what a
    /// kept answer must equal (`check_invariants`).
    pub(crate) fn screening_afresh(&self, job: &Job) -> Option<Result<Screening, RejectReason>> {
        let config = self.config;
        let mut memo = CycleMemo::new(false, 0, config);
        match self.screen_request(config, job, &mut memo) {
            Ok(index) => memo.screening(index).map(Ok),
            Err(reason) => Some(Err(reason)),
        }
    }

    /// Why `job` (as submitted, without a reservation's narrowing) would be rejected at `now`
    /// on every flavor it may use; `None` when some flavor could take it.
    pub(crate) fn rejected_on_its_own(
        &self,
        job: &Job,
        progress: &crate::progress::Progress,
        now: crate::units::Time,
    ) -> Option<RejectReason> {
        let config = self.config;
        let mut memo = CycleMemo::new(false, 0, config);
        let index = match self.screen_request(config, job, &mut memo) {
            Ok(index) => index,
            Err(reason) => return Some(reason),
        };
        let screened = &memo.screens[index];
        self.screen_public_only(job, screened)
            .and_then(|()| self.screen_deadline_and_budget(job, progress, screened, now))
            .err()
    }

    /// The part of step 1 that depends only on the job's local queue and request.
    fn screen_request<'c>(
        &self,
        config: &'c Config,
        job: &Job,
        memo: &mut CycleMemo<'c>,
    ) -> Result<usize, RejectReason> {
        let queue = config
            .cluster_queue_of(&job.queue)
            .ok_or_else(|| RejectReason::UnknownQueue(job.queue.clone()))?;
        validate_request(job)?;
        let candidates = flavors::candidates(config, queue, job, self.policy);
        if candidates.is_empty() {
            return Err(RejectReason::NoMatchingFlavor {
                queue: queue.name.clone(),
                min_tier: job.min_tier,
                upgrade_allowed: job.allow_upgrade || self.policy.allow_tier_upgrade,
            });
        }
        let view = QuotaView {
            config,
            cohort_members: self.cohort_members,
            usage: &self.ledgers.quota,
        };
        let request = job.quota_usage();
        let is_public = |flavor: &&Flavor| {
            config
                .clusters
                .get(&flavor.cluster)
                .is_none_or(|c| c.is_public())
        };
        // A flavor within the ceiling ends the search of its kind: only whether one exists,
        // and every miss before it for the rejection, are needed.
        let mut misses = Vec::new();
        let mut within = [false; 2];
        for flavor in &candidates {
            let public = usize::from(is_public(flavor));
            if within[public] {
                continue;
            }
            let ceilings = memo.rooms.ceiling(&queue.name, &flavor.name, || {
                view.rooms(queue, &flavor.name, false)
            });
            match quota::exceeds(queue, ceilings, &request) {
                Some(miss) => misses.push(FlavorMiss {
                    flavor: flavor.name.clone(),
                    miss,
                }),
                None => within[public] = true,
            }
        }
        if within == [false, false] {
            return Err(RejectReason::ExceedsQuotaCeiling {
                queue: queue.name.clone(),
                misses,
            });
        }
        let (public, private): (Vec<&Flavor>, Vec<&Flavor>) =
            candidates.into_iter().partition(is_public);
        let screened = Screened {
            queue,
            family: OnceCell::new(),
            private_fits: within[0],
            private_speeds: private
                .iter()
                .filter_map(|f| self.flavor_speed(&f.name))
                .collect::<Vec<_>>()
                .into(),
            candidates: private,
            public,
        };
        memo.screens.push(screened);
        Ok(memo.screens.len() - 1)
    }
}

fn validate_request(job: &Job) -> Result<(), RejectReason> {
    let invalid = |why: &str| Err(RejectReason::InvalidRequest(why.to_string()));
    match job.gpu {
        GpuRequest::Whole { count: 0, .. } => invalid("a whole-GPU request needs at least one GPU"),
        GpuRequest::Fraction { milli, .. } if milli.0 == 0 || milli >= MilliGpu::WHOLE => {
            invalid("a fraction must be between 1 and 999 milli-GPU; ask for whole GPUs otherwise")
        }
        _ => Ok(()),
    }
}
