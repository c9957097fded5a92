//! `conference-deadline`: the run-up to one conference deadline, a short scenario with the
//! surge of `semester-peak` throughout: busier background training and sweeps, and main
//! authors' paper runs, many of them urgent.

use super::calendar::DAY;
use super::check;
use super::term::Behaviour;
use crate::rng::Seed;
use crate::workload::Workload;
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "conference-deadline";

/// The days before one conference deadline, all of them in surge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConferenceDeadline {
    /// Length of the scenario in days. Time 0 is a Monday 00:00; the conference deadline is
    /// at the end of the last day.
    pub days: u32,
    /// Hours after the conference deadline that paper runs' own deadlines may still fall in
    /// (time zones, camera-ready experiments).
    pub deadline_slack_hours: f64,
    /// Labs; each is a tenant and submits to the LocalQueue of the same name.
    pub tenants: Vec<String>,
    /// Users per lab, named `<tenant>-user-<i>`.
    pub users_per_tenant: u32,
    /// Main authors per lab: its first users, who submit paper runs.
    pub main_authors_per_tenant: u32,
    /// Probability that a main author submits paper runs on a given day.
    pub main_author_daily_probability: f64,
    /// A busy main author submits between 1 and this many paper runs a day.
    pub max_paper_jobs_per_day: u32,
    /// Share of paper runs that tolerate at most one hour of delay (deadline = submit +
    /// runtime + up to 1 h); the rest tolerate 6–48 h.
    pub urgent_share: f64,
    /// Background training runs (1–8 GPUs, hours to days) a week would bring without the
    /// deadline; `surge_activity_factor` scales it.
    pub training_jobs_per_week: f64,
    /// Hyper-parameter sweeps (20–100 short jobs each) a week would bring without the
    /// deadline; `surge_activity_factor` scales it.
    pub sweeps_per_week: f64,
    /// Factor on the training and sweep arrival rates before the deadline.
    pub surge_activity_factor: f64,
    /// Notebook sessions each user opens on an average weekday.
    pub notebook_sessions_per_user_per_weekday: f64,
    /// Activity on Saturdays and Sundays relative to a weekday (paper runs ignore weekends).
    pub weekend_factor: f64,
    /// Share of jobs and sessions whose data is sensitive and must stay on the private fleet.
    pub sensitive_share: f64,
    /// Cloud price per GPU-hour, in currency units, that job budgets are sized against.
    pub budget_price_per_gpu_hour: f64,
    /// Share of job budgets set too small to pay for any cloud time (5–30% of the job's
    /// GPU-hours at that price; the others get 100–300%).
    pub small_budget_share: f64,
}

impl Default for ConferenceDeadline {
    fn default() -> Self {
        ConferenceDeadline {
            days: 14,
            deadline_slack_hours: 12.0,
            tenants: check::default_tenants(),
            users_per_tenant: 10,
            main_authors_per_tenant: 2,
            main_author_daily_probability: 0.85,
            max_paper_jobs_per_day: 10,
            urgent_share: 0.6,
            training_jobs_per_week: 260.0,
            sweeps_per_week: 6.0,
            surge_activity_factor: 1.6,
            notebook_sessions_per_user_per_weekday: 0.75,
            weekend_factor: 0.38,
            sensitive_share: 0.15,
            budget_price_per_gpu_hour: 3.2,
            small_budget_share: 0.2,
        }
    }
}

impl ConferenceDeadline {
    pub(crate) fn generate(&self, seed: Seed) -> Result<Workload, String> {
        let days = check::count(NAME, "days", self.days, 1, 366)?;
        let behaviour = Behaviour {
            generator: NAME,
            deadline_slack_hours: self.deadline_slack_hours,
            tenants: &self.tenants,
            users_per_tenant: self.users_per_tenant,
            main_authors_per_tenant: self.main_authors_per_tenant,
            main_author_daily_probability: self.main_author_daily_probability,
            max_paper_jobs_per_day: self.max_paper_jobs_per_day,
            urgent_share: self.urgent_share,
            training_jobs_per_week: self.training_jobs_per_week,
            sweeps_per_week: self.sweeps_per_week,
            surge_activity_factor: self.surge_activity_factor,
            notebook_sessions_per_user_per_weekday: self.notebook_sessions_per_user_per_weekday,
            weekend_factor: self.weekend_factor,
            sensitive_share: self.sensitive_share,
            budget_price_per_gpu_hour: self.budget_price_per_gpu_hour,
            small_budget_share: self.small_budget_share,
        };
        // The whole scenario is the surge before the one deadline at its end.
        let term = behaviour.term(days, vec![f64::from(days) * DAY], days)?;
        Ok(term.generate(seed))
    }
}
