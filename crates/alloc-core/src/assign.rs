//! Step 4 of the cycle: the flavor a job is admitted on, the first in fungibility order whose
//! quota and nodes both have room (a borrowing fit per the queue's `whenCanBorrow`).

use crate::decision::{FlavorMiss, Miss, Placement, WaitReason};
use crate::memo::Rooms;
use crate::model::{ClusterQueue, Flavor, Job};
use crate::placement;
use crate::quota::Mode;
use crate::state::NodeState;
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
        self.assign_avoiding(job, queue, candidates, rooms, None)
    }

    /// [`View::assign`] on the nodes `avoid` does not rule out (with `None`, on all): where a
    /// job held back by a reservation (`backfill`) may go instead. The nodes are scanned, not
    /// read off the free index, which only a held job pays for.
    pub(crate) fn assign_avoiding<'c>(
        &self,
        job: &Job,
        queue: &'c ClusterQueue,
        candidates: &[&'c Flavor],
        rooms: &mut Rooms<'c>,
        avoid: Option<&dyn Fn(&NodeState) -> bool>,
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
            let placed = match avoid {
                None => placement::place(fleet, &flavor.name, job, packing, self.mix),
                Some(avoid) => {
                    let nodes = fleet.nodes_of(&flavor.name).filter(|node| !avoid(node));
                    placement::place_among(nodes, job, packing, self.mix)
                        .ok_or_else(|| placement::shortfall(fleet, &flavor.name, job))
                }
            };
            let nodes = match placed {
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
