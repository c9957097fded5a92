//! Step 4 of the cycle: the flavor a job is admitted on, the first in fungibility order whose
//! quota and nodes both have room (a borrowing fit per the queue's `whenCanBorrow`).

use crate::decision::{FlavorMiss, Miss, Placement, WaitReason};
use crate::memo::Rooms;
use crate::model::{ClusterQueue, Flavor, Job};
use crate::placement;
use crate::quota::Mode;
use crate::view::View;

impl View<'_> {
    /// Step 4: the first flavor whose quota and nodes both have room, in fungibility order.
    /// `rooms`: the cycle's quota rooms, for `queue` on each candidate.
    pub(crate) fn assign<'c>(
        &self,
        job: &Job,
        queue: &'c ClusterQueue,
        candidates: &[&'c Flavor],
        rooms: &mut Rooms<'c>,
    ) -> Result<Placement, WaitReason> {
        let view = self.quota_view();
        let request = job.quota_usage();
        let mut misses = Vec::new();
        let mut deferred: Option<Placement> = None;
        for flavor in candidates {
            let miss = |miss: Miss| FlavorMiss {
                flavor: flavor.name.clone(),
                miss,
            };
            let room = rooms.room(&queue.name, &flavor.name, || view.room(queue, &flavor.name));
            let mode = match room.assess(queue, &request) {
                Ok(mode) => mode,
                Err(shortfall) => {
                    misses.push(miss(shortfall));
                    continue;
                }
            };
            let fleet = &self.ledgers.fleet;
            let packing = self.policy.mps_packing;
            let nodes = match placement::place(fleet, &flavor.name, job, packing, self.mix) {
                Ok(nodes) => nodes,
                Err(shortfall) => {
                    misses.push(miss(shortfall));
                    continue;
                }
            };
            let borrowing = mode == Mode::Borrow;
            let placement =
                Placement::on_nodes(flavor, &queue.name, nodes, borrowing, misses.clone());
            if mode.ends_search(queue) {
                return Ok(placement);
            }
            misses.push(miss(Miss::BorrowingDeferred {
                queue: queue.name.clone(),
            }));
            deferred.get_or_insert(placement);
        }
        deferred.ok_or(WaitReason::NoFlavorFits {
            misses: misses.into(),
        })
    }
}
