//! Map and Parallel on a shard: starting children (inline, on idle shards,
//! a turn's worth at a time, within the execution's fiber budget), joining
//! their results and dropping them.

use super::budget;
use super::*;

impl Shard {
    pub(super) fn adopt(&mut self, child: ChildFiber) {
        let ChildFiber {
            parent,
            fork,
            index,
            fiber,
        } = child;
        let slot = self.alloc(FiberSlot {
            fiber,
            owner: Owner::Child {
                parent,
                fork,
                index,
            },
            waiting: Waiting::Nothing,
            fan: None,
            forks: 0,
            wait_seq: 0,
            task_started: self.now,
        });
        self.adopted.entry((parent, fork)).or_default().push(slot);
        self.queue(slot, Resume::Run);
    }

    /// Starts the children of `index`'s fan-out that `MaxConcurrency` allows.
    ///
    /// A child runs at once, to its first wait point, without a slot or a
    /// queue: a CPU-only Map iteration finishes right here and only its
    /// result is recorded. A child that has to wait gets a slot. While other
    /// shards are idle, children are handed to them instead, so one big
    /// fan-out uses every core. At most [`CHILDREN_PER_TURN`] start per
    /// call; then the parent is queued to start the next ones on a later
    /// turn, so a huge fan-out neither holds the shard nor makes all its
    /// children at once (a CPU-only Map over 100,000 items keeps about a
    /// turn's worth alive).
    pub(super) fn start_children(&mut self, index: u32) {
        let parent = self.reference(index);
        let shards = self.shared.inboxes.len();
        let idle: Vec<usize> = if shards > 1 && shards <= 64 {
            (0..shards)
                .filter(|&s| s != self.index as usize && self.shared.inboxes[s].is_sleeping())
                .collect()
        } else {
            Vec::new()
        };
        let mut outgoing: Vec<Vec<ChildFiber>> = Vec::new();
        let mut turn = 0usize;
        let mut turn_budget = CHILDREN_PER_TURN;
        let (max_fibers, max_bytes) = (self.shared.max_fibers, self.shared.max_bytes);
        let mut over_budget = None;
        let shared = Arc::clone(&self.shared);
        let slice_start = shared.clock.now();
        let out_of_time = |budget: usize| {
            (CHILDREN_PER_TURN - budget) % SLICE_CHECK == SLICE_CHECK - 1
                && shared.clock.now().since(slice_start) >= TIME_SLICE
        };
        while let Some(slot) = self.slot_mut(index) {
            if turn_budget == 0 || out_of_time(turn_budget) {
                if slot
                    .fan
                    .as_ref()
                    .is_some_and(|f| f.join.has_more_to_start())
                {
                    self.queue(index, Resume::StartChildren);
                }
                break;
            }
            turn_budget -= 1;
            let exec = slot.fiber.execution();
            if let Some(error) = budget::over_budget(exec, max_fibers, max_bytes) {
                over_budget = Some((ExecutionId(exec.host_id), error));
                break;
            }
            let Some(fan) = slot.fan.as_mut() else { break };
            let Some(child_index) = fan.join.next_to_start() else {
                break;
            };
            let fork = fan.fork;
            let mut fiber = slot.fiber.child(&fan.starts[child_index]);
            // round robin over this shard and the idle ones
            let target = if idle.is_empty() || turn.is_multiple_of(idle.len() + 1) {
                None
            } else {
                Some(idle[turn % (idle.len() + 1) - 1])
            };
            turn += 1;
            if let Some(shard) = target {
                fan.remote |= 1 << shard;
                if outgoing.len() <= shard {
                    outgoing.resize_with(shard + 1, Vec::new);
                }
                outgoing[shard].push(ChildFiber {
                    parent,
                    fork,
                    index: child_index as u32,
                    fiber,
                });
                continue;
            }
            let owner = Owner::Child {
                parent,
                fork,
                index: child_index as u32,
            };
            let metrics = fiber.execution().machine.map(|label| {
                let blocks = &self.shared.metrics[self.index as usize];
                self.recorder.machine(label, blocks)
            });
            let mut env = StepEnv {
                now: self.now,
                tokens: Some(&self.mint),
                metrics,
            };
            match fiber.run(&mut env) {
                Poll::Done(result) => {
                    let (events, transitions) = (fiber.events_used(), fiber.transitions());
                    if self.join_child(
                        parent,
                        fork,
                        child_index as u32,
                        None,
                        result,
                        events,
                        transitions,
                    ) {
                        break;
                    }
                }
                poll => {
                    let child = self.adopt_local(index, fiber, owner);
                    self.act(child, poll);
                }
            }
        }
        for (shard, children) in outgoing.into_iter().enumerate() {
            if !children.is_empty() {
                self.shared.inboxes[shard].push(Message::Children(children));
            }
        }
        if let Some((id, error)) = over_budget {
            self.fail_execution(id, error);
        }
    }

    /// Ends execution `id` as failed, here or on the shard that holds its
    /// top level.
    pub(super) fn fail_execution(&mut self, id: ExecutionId, error: StatesError) {
        let shards = self.shared.inboxes.len() as u64;
        let owner = (id.0.saturating_sub(1) % shards) as usize;
        if owner == self.index as usize {
            if let Some(&index) = self.tops.get(&id) {
                self.end_execution(index, Status::Failed, Err(error));
            }
        } else {
            self.shared.inboxes[owner].push(Message::End(Box::new((id, Status::Failed, error))));
        }
    }

    /// Gives a child of `parent` (a slot here) a slot of its own.
    pub(super) fn adopt_local(&mut self, parent: u32, fiber: Fiber, owner: Owner) -> u32 {
        let child = self.alloc(FiberSlot {
            fiber,
            owner,
            waiting: Waiting::Nothing,
            fan: None,
            forks: 0,
            wait_seq: 0,
            task_started: self.now,
        });
        if let Some(fan) = self.slot_mut(parent).and_then(|s| s.fan.as_mut()) {
            fan.local.push(child);
        }
        child
    }

    /// A child finished: record it, then start more children unless the
    /// fan-out is decided.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn child_done(
        &mut self,
        parent: FiberRef,
        fork: u32,
        child_index: u32,
        child_slot: Option<u32>,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) {
        if !self.join_child(
            parent,
            fork,
            child_index,
            child_slot,
            result,
            events,
            transitions,
        ) {
            self.start_children(parent.slot);
        }
    }

    /// Records a finished child in its parent's join. Returns `true` when
    /// that decided the fan-out (the parent is queued to resume) or the
    /// parent no longer waits for it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn join_child(
        &mut self,
        parent: FiberRef,
        fork: u32,
        child_index: u32,
        child_slot: Option<u32>,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) -> bool {
        let Some(slot) = self.slot_for(parent) else {
            return true;
        };
        let Some(fan) = slot.fan.as_mut().filter(|f| f.fork == fork) else {
            return true;
        };
        if let Some(child) = child_slot {
            fan.local.retain(|&c| c != child);
        }
        if let Ok(value) = &result {
            fan.collected.add(value);
        }
        match fan
            .join
            .finish(child_index as usize, result, events, transitions)
        {
            Some(outcome) => {
                let fan = slot.fan.take();
                slot.waiting = Waiting::Nothing;
                if let Some(fan) = fan {
                    self.drop_children(parent, &fan);
                }
                self.queue(parent.slot, Resume::Join(outcome));
                true
            }
            None => false,
        }
    }

    pub(super) fn drop_children(&mut self, parent: FiberRef, fan: &FanOut) {
        for &child in &fan.local {
            self.drop_subtree(child);
        }
        if fan.remote != 0 {
            for shard in 0..self.shared.inboxes.len().min(64) {
                if fan.remote & (1 << shard) != 0 {
                    self.shared.inboxes[shard].push(Message::CancelChildren {
                        parent,
                        fork: fan.fork,
                    });
                }
            }
        }
    }
}
