//! Showback: public bills split into running, provisioning and warm idle add up to what the
//! cloud billed, per tenant as in total; private GPU-hours are priced at the run's price;
//! `costs.csv` and the report carry them.

use alloc_core::Money;
use sim::record::costs;
use sim::report::{single, RunView};

#[test]
fn showback_splits_public_bills_exactly_and_prices_private_gpu_hours() {
    let (mut output, summary) = super::run(300, "always-burst");
    let showback = &summary["showback"];
    let total = &showback["total"];
    let billed = summary["public_cost"].as_f64().unwrap();
    assert!(billed > 0.0, "the run bursts");
    let parts: f64 = ["public_running", "public_provisioning", "public_warm_idle"]
        .iter()
        .map(|k| total[k].as_f64().unwrap())
        .sum();
    assert!((parts - billed).abs() < 1e-5, "{parts} vs {billed}");
    assert!(total["public_provisioning"].as_f64().unwrap() > 0.0);
    // in micro-units the lines add up exactly
    let micros: i64 = output.showback.values().map(|l| l.public_billed().0).sum();
    let by_tenant: i64 = output.records.iter().map(|r| r.cost.0).sum();
    assert_eq!(micros, by_tenant);
    for (tenant, spend) in summary["public_cost_by_tenant"].as_object().unwrap() {
        assert_eq!(
            showback["by_tenant"][tenant]["public_billed"], spend["billed"],
            "{tenant}"
        );
    }
    for group in ["by_tenant", "by_queue", "by_tier", "by_cluster"] {
        let sum: f64 = showback[group]
            .as_object()
            .unwrap()
            .values()
            .map(|l| l["private_gpu_hours"].as_f64().unwrap())
            .sum();
        let all = total["private_gpu_hours"].as_f64().unwrap();
        assert!((sum - all).abs() < 1e-4, "{group}: {sum} vs {all}");
    }
    // priced at 2.50 a GPU-hour
    output.private_gpu_hour_price = Money(2_500_000);
    let priced = costs::summary(&output.showback, output.private_gpu_hour_price);
    let hours = priced["total"]["private_gpu_hours"].as_f64().unwrap();
    let cost = priced["total"]["private_cost"].as_f64().unwrap();
    assert!(
        hours > 0.0 && (cost - 2.5 * hours).abs() < 1e-3,
        "{cost} for {hours} h"
    );
    let table = costs::table(&output.showback, output.private_gpu_hour_price);
    let dir = tempfile::tempdir().unwrap();
    table.write_csv(&dir.path().join("costs.csv")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("costs.csv")).unwrap();
    assert!(csv.starts_with("tenant,queue,tier,cluster,private_gpu_hours,private_cost,public_gpu_hours,public_running_cost,public_provisioning_cost,public_warm_idle_cost,public_cost,total_cost\n"), "{csv}");
    assert_eq!(csv.lines().count(), output.showback.len() + 1);
    let html = single(&RunView::new(&output, &summary));
    let section = html.split("id=\"costs\"").nth(1).unwrap();
    assert!(section.contains("by tenant") && section.contains("lab-0"));
    assert!(section.contains("public warm idle"));
}
