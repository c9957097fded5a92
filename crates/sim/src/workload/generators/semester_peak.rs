//! `semester-peak`: a 16-week term of a university department with two conference deadlines.
//!
//! Calibrated against the bundled department fleet (56 private GPUs, 9,408 GPU-hours a week):
//! outside surges the offered load is about two thirds of the fleet; in the two weeks before
//! each deadline more background work plus main authors' paper runs push it well above the
//! fleet, so bursting to the cloud matters.

use super::batch::Style;
use super::calendar::DAY;
use super::check;
use super::term::{Behaviour, Term};
use crate::rng::Seed;
use crate::workload::Workload;
use alloc_core::Money;
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "semester-peak";

/// A department's term: rhythm, background training, sweeps, notebooks, conference surges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SemesterPeak {
    /// Length of the term in weeks. Time 0 is Monday 00:00 of week 1.
    pub weeks: u32,
    /// Weeks (1-based) whose end, Sunday 24:00, is a conference deadline.
    pub deadline_weeks: Vec<u32>,
    /// Days before each deadline during which the department is in surge.
    pub surge_days: u32,
    /// Hours after a conference deadline that paper runs' own deadlines may still fall in
    /// (time zones, camera-ready experiments).
    pub deadline_slack_hours: f64,
    /// Labs; each is a tenant and submits to the LocalQueue of the same name.
    pub tenants: Vec<String>,
    /// Users per lab, named `<tenant>-user-<i>`.
    pub users_per_tenant: u32,
    /// Main authors per lab: its first users, who submit paper runs during surges.
    pub main_authors_per_tenant: u32,
    /// Probability that a main author submits paper runs on a given surge day.
    pub main_author_daily_probability: f64,
    /// A busy main author submits between 1 and this many paper runs a day.
    pub max_paper_jobs_per_day: u32,
    /// Share of paper runs that tolerate at most one hour of delay (deadline = submit +
    /// runtime + up to 1 h); the rest tolerate 6–48 h.
    pub urgent_share: f64,
    /// Background training runs (1–8 GPUs, hours to days) submitted in a week without surge.
    pub training_jobs_per_week: f64,
    /// Hyper-parameter sweeps (20–100 short jobs each) submitted in a week without surge.
    pub sweeps_per_week: f64,
    /// Factor on the training and sweep arrival rates during surges.
    pub surge_activity_factor: f64,
    /// Notebook sessions each user opens on an average weekday.
    pub notebook_sessions_per_user_per_weekday: f64,
    /// Activity on Saturdays and Sundays relative to a weekday.
    pub weekend_factor: f64,
    /// Share of jobs and sessions whose data is sensitive and must stay on the private fleet.
    pub sensitive_share: f64,
    /// Cloud price per GPU-hour, in currency units, that job budgets are sized against.
    pub budget_price_per_gpu_hour: f64,
    /// Share of job budgets set too small to pay for any cloud time (5–30% of the job's
    /// GPU-hours at that price; the others get 100–300%).
    pub small_budget_share: f64,
}

impl Default for SemesterPeak {
    fn default() -> Self {
        SemesterPeak {
            weeks: 16,
            deadline_weeks: vec![7, 14],
            surge_days: 14,
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

impl SemesterPeak {
    pub(crate) fn term(&self) -> Result<Term, String> {
        let weeks = check::count(NAME, "weeks", self.weeks, 1, 104)?;
        let mut conferences = Vec::with_capacity(self.deadline_weeks.len());
        for &week in &self.deadline_weeks {
            check::count(NAME, "deadline_weeks", week, 1, weeks)?;
            conferences.push(f64::from(week) * 7.0 * DAY);
        }
        let surge_days = check::count(NAME, "surge_days", self.surge_days, 1, weeks * 7)?;
        self.behaviour().term(weeks * 7, conferences, surge_days)
    }

    pub(crate) fn generate(&self, seed: Seed) -> Result<Workload, String> {
        Ok(self.term()?.generate(seed))
    }

    fn behaviour(&self) -> Behaviour<'_> {
        Behaviour {
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
        }
    }
}

/// The budget and data-class knobs every generator shares, checked.
pub(crate) fn style(
    generator: &str,
    sensitive_share: f64,
    price_per_gpu_hour: f64,
    small_budget_share: f64,
) -> Result<Style, String> {
    let price = check::within(
        generator,
        "budget_price_per_gpu_hour",
        price_per_gpu_hour,
        0.0,
        1_000_000.0,
    )?;
    Ok(Style {
        sensitive_share: check::probability(generator, "sensitive_share", sensitive_share)?,
        price_per_gpu_hour: Money((price * Money::MICROS_PER_UNIT as f64).round() as i64),
        small_budget_share: check::probability(
            generator,
            "small_budget_share",
            small_budget_share,
        )?,
    })
}
