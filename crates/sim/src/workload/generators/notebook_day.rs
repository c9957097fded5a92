//! `notebook-day`: one weekday of a department that also teaches. A lab class opens dozens of
//! notebook sessions within minutes and keeps them for its whole block; researchers open
//! theirs through the day; a light batch background runs underneath. The scenario for
//! comparing how notebooks hold GPUs (per cell with keep-alive, or a whole GPU per session).

use super::batch::{self, Training};
use super::calendar::{Calendar, HOUR, MINUTE};
use super::check;
use super::notebooks;
use super::people::People;
use super::semester_peak::style;
use crate::rng::Seed;
use crate::workload::{Session, Workload};
use rand::Rng;
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "notebook-day";

/// Background runs on a teaching day: shorter than a term's, so the day's story ends the
/// same night.
const DAY_TRAINING: Training = Training {
    median_hours: 3.0,
    sigma: 0.9,
    cap_hours: 12.0,
    deadline_share: 0.15,
};

/// One teaching day of notebooks. Time 0 is 00:00 of the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NotebookDay {
    /// Labs; each is a tenant and submits to the LocalQueue of the same name.
    pub tenants: Vec<String>,
    /// Researchers per lab, named `<tenant>-user-<i>`.
    pub users_per_tenant: u32,
    /// Notebook sessions each researcher opens during the day, on average.
    pub research_sessions_per_user: f64,
    /// Students in the lab class, named `<class_tenant>-student-<i>`; each opens one session
    /// at the start of the class and keeps it until about its end.
    pub class_size: u32,
    /// The tenant (and LocalQueue) the class's sessions are charged to.
    pub class_tenant: String,
    /// When the class starts, in hours after midnight (14.0 = 14:00).
    pub class_start_hour: f64,
    /// Length of the class in hours.
    pub class_hours: f64,
    /// Background training runs (1–8 GPUs, median 3 h, at most 12 h) submitted during the day.
    pub training_jobs: u32,
    /// Hyper-parameter sweeps (20–100 short jobs each) submitted during the day.
    pub sweeps: u32,
    /// Share of researchers' jobs and sessions whose data is sensitive and must stay on the
    /// private fleet; the class works on teaching data.
    pub sensitive_share: f64,
    /// Cloud price per GPU-hour, in currency units, that job budgets are sized against.
    pub budget_price_per_gpu_hour: f64,
    /// Share of job budgets set too small to pay for any cloud time.
    pub small_budget_share: f64,
}

impl Default for NotebookDay {
    fn default() -> Self {
        NotebookDay {
            tenants: check::default_tenants(),
            users_per_tenant: 10,
            research_sessions_per_user: 0.75,
            class_size: 60,
            class_tenant: "lab-0".to_string(),
            class_start_hour: 14.0,
            class_hours: 2.0,
            training_jobs: 24,
            sweeps: 1,
            sensitive_share: 0.15,
            budget_price_per_gpu_hour: 3.2,
            small_budget_share: 0.2,
        }
    }
}

impl NotebookDay {
    pub(crate) fn generate(&self, seed: Seed) -> Result<Workload, String> {
        check::tenants(NAME, "tenants", &self.tenants)?;
        let users = check::count(NAME, "users_per_tenant", self.users_per_tenant, 1, 10_000)?;
        let per_user = check::within(
            NAME,
            "research_sessions_per_user",
            self.research_sessions_per_user,
            0.0,
            100.0,
        )?;
        let class_size = check::count(NAME, "class_size", self.class_size, 0, 10_000)?;
        if self.class_tenant.trim().is_empty() {
            return Err(format!("{NAME}: class_tenant: must not be empty"));
        }
        let start = check::within(NAME, "class_start_hour", self.class_start_hour, 0.0, 23.0)?;
        let hours = check::within(NAME, "class_hours", self.class_hours, 0.25, 24.0 - start)?;
        let training = check::count(NAME, "training_jobs", self.training_jobs, 0, 100_000)?;
        let sweeps = check::count(NAME, "sweeps", self.sweeps, 0, 1000)?;
        let style = style(
            NAME,
            self.sensitive_share,
            self.budget_price_per_gpu_hour,
            self.small_budget_share,
        )?;
        let people = People::new(&self.tenants, users);

        let mut rng = seed.stream(&format!("{NAME}/training"));
        let mut jobs: Vec<_> = (0..training)
            .map(|_| {
                let t = Calendar::time_in_day(&mut rng, 0.0);
                let who = people.random(&mut rng);
                batch::training(&mut rng, &style, &who, t, &DAY_TRAINING)
            })
            .collect();
        let mut rng = seed.stream(&format!("{NAME}/sweeps"));
        for _ in 0..sweeps {
            let t = Calendar::time_in_day(&mut rng, 0.0);
            let who = people.random(&mut rng);
            jobs.extend(batch::sweep(&mut rng, &style, &who, t));
        }

        let mut sessions = self.class(seed, class_size, start * HOUR, hours * HOUR);
        let mut rng = seed.stream(&format!("{NAME}/research"));
        for who in people.everyone() {
            // `per_user` sessions on average: its whole part, plus one more with the rest.
            let whole = per_user.floor();
            let count = whole as u32 + u32::from(rng.gen_bool(per_user - whole));
            for _ in 0..count {
                let t = Calendar::time_in_day(&mut rng, 0.0);
                let template = notebooks::template(
                    &mut rng,
                    &who,
                    notebooks::RESEARCH_MIX,
                    style.sensitive_share,
                );
                let length = notebooks::research_length(&mut rng);
                sessions.push(notebooks::session(
                    &mut rng,
                    template,
                    t,
                    length,
                    &notebooks::RESEARCH,
                ));
            }
        }
        Ok(super::assemble(jobs, sessions))
    }

    /// Students arrive from 5 minutes early to 15 minutes late and leave from 20 minutes
    /// before the end to 5 minutes after it.
    fn class(&self, seed: Seed, size: u32, start: f64, length: f64) -> Vec<Session> {
        let mut rng = seed.stream(&format!("{NAME}/class"));
        let end = start + length;
        (0..size)
            .map(|student| {
                let who = People::who(
                    &self.class_tenant,
                    &format!("{}-student-{student}", self.class_tenant),
                );
                let opened = (start + rng.gen_range(-5.0..15.0) * MINUTE).max(0.0);
                let closes = end + rng.gen_range(-20.0..5.0) * MINUTE;
                let template = notebooks::template(&mut rng, &who, notebooks::CLASS_MIX, 0.0);
                let length = (closes - opened).max(10.0 * MINUTE);
                notebooks::session(&mut rng, template, opened, length, &notebooks::CLASS)
            })
            .collect()
    }
}
