//! Progress on stderr for long runs, drawn only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over jobs done.
pub fn bar(total: u64, label: &'static str) -> ProgressBar {
    styled(
        total,
        label,
        "{msg} [{bar:40}] {pos}/{len} jobs, {elapsed} so far ({eta} left)",
    )
}

/// The same over the bytes of a file read.
pub fn bytes(total: u64, label: &'static str) -> ProgressBar {
    styled(
        total,
        label,
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta} left)",
    )
}

fn styled(total: u64, label: &'static str, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || std::env::var_os("NO_PROGRESS").is_some() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label);
    // Redrawn even while the count stands still (an overloaded run's cycles), so the
    // elapsed time shows it is alive.
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}
