//! A stretch of a department's term, shared by `semester-peak` (a whole term with several
//! conference deadlines) and `conference-deadline` (the run-up to one): background training,
//! sweeps and notebooks follow the weekly and daily rhythm; in the `surge_days` before each
//! conference everyone is busier and main authors add their paper runs.

use super::batch::{self, Style, TERM_TRAINING};
use super::calendar::{Calendar, DAY};
use super::check;
use super::notebooks;
use super::people::People;
use super::semester_peak::style;
use crate::rng::Seed;
use crate::workload::{Session, Workload};
use alloc_core::Job;
use rand::Rng;

/// A workload larger than this is refused rather than generated: it would not fit in memory
/// or simulate in reasonable time, and is most likely a typo in a rate.
const MAX_ITEMS: f64 = 3_000_000.0;

#[derive(Debug, Clone)]
pub(crate) struct Term {
    /// Prefix of the random streams, so two generators with one seed do not share numbers.
    pub generator: &'static str,
    pub days: u32,
    /// Conference deadlines, ms since the start.
    pub conferences: Vec<f64>,
    pub surge_days: u32,
    pub slack_hours: f64,
    pub people: People,
    pub main_authors_per_tenant: u32,
    pub main_author_daily_probability: f64,
    pub max_paper_jobs_per_day: u32,
    pub urgent_share: f64,
    pub training_jobs_per_week: f64,
    pub sweeps_per_week: f64,
    pub surge_activity_factor: f64,
    pub sessions_per_user_per_weekday: f64,
    pub weekend_factor: f64,
    pub style: Style,
}

/// What `semester-peak` and `conference-deadline` share beyond the calendar, as the user wrote
/// it: [`Behaviour::term`] checks it once for both and names the generator in every error.
pub(crate) struct Behaviour<'a> {
    pub generator: &'static str,
    pub deadline_slack_hours: f64,
    pub tenants: &'a [String],
    pub users_per_tenant: u32,
    pub main_authors_per_tenant: u32,
    pub main_author_daily_probability: f64,
    pub max_paper_jobs_per_day: u32,
    pub urgent_share: f64,
    pub training_jobs_per_week: f64,
    pub sweeps_per_week: f64,
    pub surge_activity_factor: f64,
    pub notebook_sessions_per_user_per_weekday: f64,
    pub weekend_factor: f64,
    pub sensitive_share: f64,
    pub budget_price_per_gpu_hour: f64,
    pub small_budget_share: f64,
}

impl Behaviour<'_> {
    /// The checked term over `days`, with these conference deadlines (ms since the start) and
    /// `surge_days` of surge before each.
    pub(crate) fn term(
        &self,
        days: u32,
        conferences: Vec<f64>,
        surge_days: u32,
    ) -> Result<Term, String> {
        let name = self.generator;
        check::tenants(name, "tenants", self.tenants)?;
        let users = check::count(name, "users_per_tenant", self.users_per_tenant, 1, 10_000)?;
        let term = Term {
            generator: name,
            days,
            conferences,
            surge_days,
            slack_hours: check::within(
                name,
                "deadline_slack_hours",
                self.deadline_slack_hours,
                0.0,
                24.0 * 30.0,
            )?,
            people: People::new(self.tenants, users),
            main_authors_per_tenant: check::count(
                name,
                "main_authors_per_tenant",
                self.main_authors_per_tenant,
                0,
                users,
            )?,
            main_author_daily_probability: check::probability(
                name,
                "main_author_daily_probability",
                self.main_author_daily_probability,
            )?,
            max_paper_jobs_per_day: check::count(
                name,
                "max_paper_jobs_per_day",
                self.max_paper_jobs_per_day,
                1,
                1000,
            )?,
            urgent_share: check::probability(name, "urgent_share", self.urgent_share)?,
            training_jobs_per_week: check::rate(
                name,
                "training_jobs_per_week",
                self.training_jobs_per_week,
            )?,
            sweeps_per_week: check::rate(name, "sweeps_per_week", self.sweeps_per_week)?,
            surge_activity_factor: check::within(
                name,
                "surge_activity_factor",
                self.surge_activity_factor,
                0.0,
                100.0,
            )?,
            sessions_per_user_per_weekday: check::within(
                name,
                "notebook_sessions_per_user_per_weekday",
                self.notebook_sessions_per_user_per_weekday,
                0.0,
                100.0,
            )?,
            weekend_factor: check::within(name, "weekend_factor", self.weekend_factor, 0.0, 1.0)?,
            style: style(
                name,
                self.sensitive_share,
                self.budget_price_per_gpu_hour,
                self.small_budget_share,
            )?,
        };
        term.check_size()?;
        Ok(term)
    }
}

impl Term {
    fn end(&self) -> f64 {
        f64::from(self.days) * DAY
    }

    fn surge_windows(&self) -> Vec<(f64, f64)> {
        let length = f64::from(self.surge_days) * DAY;
        self.conferences
            .iter()
            .map(|&deadline| ((deadline - length).max(0.0), deadline))
            .collect()
    }

    /// Sessions a week in the calendar's terms: `sessions_per_user_per_weekday` on weekdays,
    /// scaled by the weekend factor on weekends.
    fn sessions_per_week(&self) -> f64 {
        self.people.user_count() as f64
            * self.sessions_per_user_per_weekday
            * (5.0 + 2.0 * self.weekend_factor)
    }

    /// Refuses parameter combinations that would produce an unreasonable number of items.
    pub(crate) fn check_size(&self) -> Result<(), String> {
        let weeks = f64::from(self.days) / 7.0;
        let surge = self.surge_activity_factor.max(1.0);
        let per_week = (self.training_jobs_per_week + 100.0 * self.sweeps_per_week) * surge
            + self.sessions_per_week() * 100.0;
        let papers = self.conferences.len() as f64
            * f64::from(self.surge_days)
            * self.people.main_authors(self.main_authors_per_tenant).len() as f64
            * f64::from(self.max_paper_jobs_per_day);
        let estimate = per_week * weeks + papers;
        if estimate > MAX_ITEMS {
            return Err(format!(
                "{}: the rates ask for about {estimate:.0} jobs and cells, more than the \
                 {MAX_ITEMS:.0} a scenario may have; lower the rates or the length",
                self.generator
            ));
        }
        Ok(())
    }

    pub(crate) fn generate(&self, seed: Seed) -> Workload {
        let calendar = Calendar::new(self.weekend_factor)
            .with_surges(self.surge_windows(), self.surge_activity_factor);
        let mut jobs = self.training(seed, &calendar);
        jobs.extend(self.sweeps(seed, &calendar));
        jobs.extend(self.papers(seed));
        let sessions = self.sessions(seed);
        super::assemble(jobs, sessions)
    }

    fn training(&self, seed: Seed, calendar: &Calendar) -> Vec<Job> {
        let mut rng = seed.stream(&format!("{}/training", self.generator));
        let times = calendar.arrivals(&mut rng, 0.0, self.end(), self.training_jobs_per_week);
        times
            .into_iter()
            .map(|t| {
                let who = self.people.random(&mut rng);
                batch::training(&mut rng, &self.style, &who, t, &TERM_TRAINING)
            })
            .collect()
    }

    fn sweeps(&self, seed: Seed, calendar: &Calendar) -> Vec<Job> {
        let mut rng = seed.stream(&format!("{}/sweeps", self.generator));
        let times = calendar.arrivals(&mut rng, 0.0, self.end(), self.sweeps_per_week);
        let mut jobs = Vec::new();
        for t in times {
            let who = self.people.random(&mut rng);
            jobs.extend(batch::sweep(&mut rng, &self.style, &who, t));
        }
        jobs
    }

    /// Deadline crunch ignores weekends: each main author is busy on a surge day with
    /// `main_author_daily_probability`, weekend or not, and then submits 1 to
    /// `max_paper_jobs_per_day` runs through the day's hours.
    fn papers(&self, seed: Seed) -> Vec<Job> {
        let mut rng = seed.stream(&format!("{}/papers", self.generator));
        let authors = self.people.main_authors(self.main_authors_per_tenant);
        let latest_slack = self.slack_hours * super::calendar::HOUR;
        let mut jobs = Vec::new();
        for (&(start, end), &conference) in self.surge_windows().iter().zip(&self.conferences) {
            let mut day = (start / DAY).floor() * DAY;
            while day < end {
                for who in &authors {
                    if !rng.gen_bool(self.main_author_daily_probability) {
                        continue;
                    }
                    for _ in 0..rng.gen_range(1..=self.max_paper_jobs_per_day.max(1)) {
                        let t = Calendar::time_in_day(&mut rng, day);
                        if (start..end).contains(&t) {
                            let latest = conference + latest_slack;
                            let urgent = self.urgent_share;
                            jobs.push(batch::paper(&mut rng, &self.style, who, t, latest, urgent));
                        }
                    }
                }
                day += DAY;
            }
        }
        jobs
    }

    fn sessions(&self, seed: Seed) -> Vec<Session> {
        let mut rng = seed.stream(&format!("{}/notebooks", self.generator));
        // Notebook use follows the week, not the deadlines: the surge shows up in batch jobs.
        let calendar = Calendar::new(self.weekend_factor);
        let times = calendar.arrivals(&mut rng, 0.0, self.end(), self.sessions_per_week());
        times
            .into_iter()
            .map(|t| {
                let who = self.people.random(&mut rng);
                let template = notebooks::template(
                    &mut rng,
                    &who,
                    notebooks::RESEARCH_MIX,
                    self.style.sensitive_share,
                );
                let length = notebooks::research_length(&mut rng);
                notebooks::session(&mut rng, template, t, length, &notebooks::RESEARCH)
            })
            .collect()
    }
}

/// Offered GPU-hours (on the reference GPU) by the week the work was submitted in: batch jobs
/// and notebook cells. Used by tests and calibration, not by the engine.
#[cfg(test)]
pub(crate) fn offered_gpu_hours_by_week(workload: &Workload, weeks: usize) -> Vec<f64> {
    let mut hours = vec![0.0; weeks];
    let mut add = |submit: f64, milli: u64, runtime: u64| {
        let week = (submit / super::calendar::WEEK) as usize;
        if let Some(slot) = hours.get_mut(week) {
            *slot += milli as f64 / 1000.0 * runtime as f64 / super::calendar::HOUR;
        }
    };
    for job in &workload.jobs {
        add(job.submit_time.0 as f64, job.gpu.milli().0, job.runtime.0);
    }
    for session in &workload.sessions {
        let milli = session.template.gpu.milli().0;
        for cell in &session.cells {
            add(session.opened.0 as f64, milli, cell.compute.0);
        }
    }
    hours
}
