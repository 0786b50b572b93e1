//! Pausing a trial and continuing it (multilevel splitting, `sim::split`): a
//! [`Snapshot`] of the state at the moment a trial's highest level first reaches a rung,
//! and continuations of it that draw from streams of their own. A child of the engine, so
//! that it sees the trial's state; the engine's hot loop does not depend on it.

use super::*;

/// A trial paused at the moment its highest level first reached a rung (multilevel
/// splitting, [`Engine::run_to`]): everything that decides its future, its params
/// included, but not its random streams, which a continuation replaces.
#[derive(Clone)]
pub struct Snapshot {
    /// Boxed: a stage moves its snapshots between lists, and a state is some 1 KB.
    state: Box<State>,
    params: Vec<f64>,
}

impl Snapshot {
    /// The highest level the trial has reached.
    pub fn max_level(&self) -> LevelIx {
        self.state.max_level
    }

    /// The first day the trial reached level `level` (NaN: not yet).
    pub fn reached_day(&self, level: LevelIx) -> f64 {
        self.state.reached[level]
    }

    /// The trial it continues.
    pub fn trial(&self) -> u64 {
        self.state.trial
    }

    /// Makes this snapshot a copy of `o`, into the buffers it has.
    pub fn copy_from(&mut self, o: &Snapshot) {
        self.state.copy_from(&o.state);
        self.params.clone_from(&o.params);
    }

    /// Whether the trial ended on a terminal level when it reached the rung: it goes no
    /// higher.
    pub fn ended(&self) -> bool {
        self.state.end_reason == EndReason::Terminal
    }
}

impl<'m> Engine<'m> {
    /// Runs trial `trial` from its start until it ends or its highest level reaches
    /// `rung`; true if it reached it. A trial that reached it is paused there, without its
    /// end (see [`Engine::snapshot`]); one that did not ran as [`Engine::run`] runs it.
    pub fn run_to(&mut self, trial: u64, rung: LevelIx) -> Result<bool, Runaway> {
        if !self.param_streams.is_empty() {
            self.draw_params(trial);
        }
        self.state.reset(&self.model, trial, None);
        self.state.advance(&self.model, &mut NoObserver, rung)?;
        Ok(self.state.max_level >= rung)
    }

    /// The trial paused by [`Engine::run_to`] or [`Engine::resume`], to continue from.
    pub fn snapshot(&mut self) -> Snapshot {
        let streams = std::mem::replace(&mut self.state.streams, TrialStreams::none());
        let state = Box::new(self.state.clone());
        self.state.streams = streams;
        Snapshot { state, params: self.param_values.clone() }
    }

    /// [`Engine::snapshot`] into a snapshot that is no longer needed, reusing its
    /// buffers.
    pub fn snapshot_into(&mut self, out: &mut Snapshot) {
        out.state.copy_from(&self.state);
        out.params.clone_from(&self.param_values);
    }

    /// Continues the paused trial `from` until it ends or its highest level reaches
    /// `rung`; true if it reached it. It draws from the streams of its continuation
    /// `lineage` (nonzero, and distinct among the continuations of one trial), so that
    /// every continuation of a snapshot has a future of its own, reproducibly. Every
    /// step with a rate starts a fresh wait (waiting times are memoryless), and every
    /// pending reaction draws its remaining wait anew given that it has not come yet
    /// ([`State::redraw_reactions`]): this changes nothing in law and makes continuations
    /// less alike. Scheduled firings, excitation offspring, window edges and the ends of
    /// modifiers keep their days.
    pub fn resume(&mut self, from: &Snapshot, lineage: u32, rung: LevelIx) -> Result<bool, Runaway> {
        debug_assert!(lineage > 0, "lineage 0 is the trial's own streams");
        if !self.param_streams.is_empty() {
            self.param_values.copy_from_slice(&from.params);
            self.model.to_mut().patch(&self.patch_slots, &self.param_values);
        }
        let m: &Model = &self.model;
        let st = &mut self.state;
        st.copy_from(&from.state);
        st.streams.begin_lineage(st.trial, lineage);
        let now = st.now;
        st.redraw_reactions(m, now);
        for c in 0..st.clocks.len() {
            st.renew_arrival(c, now);
        }
        st.advance(m, &mut NoObserver, rung)?;
        Ok(st.max_level >= rung)
    }
}

/// `dst.clone_from(src)`, but nothing at all when both are empty (most of a paused
/// trial's lists are): continuing a paused trial copies some 30 lists.
#[inline]
#[allow(clippy::ptr_arg)] // Vec::clone_from reuses the buffers of the elements too
fn copy_vec<T: Clone>(dst: &mut Vec<T>, src: &Vec<T>) {
    if !(dst.is_empty() && src.is_empty()) {
        dst.clone_from(src);
    }
}

impl State {
    /// Makes this state the paused one `o`, field by field into the buffers it has (no
    /// allocation once they have grown), keeping its own streams.
    fn copy_from(&mut self, o: &State) {
        // Destructured whole, so that a new field cannot be forgotten here.
        let State {
            horizon,
            origin,
            answered,
            answered_at,
            max_events,
            queue,
            modifier_work,
            counts,
            clocks,
            clock_of,
            rate_steps,
            first_arrival,
            rate_x,
            p_x,
            rate_mods,
            p_mods,
            modifiers_on,
            trial,
            level,
            max_level,
            reached,
            tallies,
            path,
            changes,
            end_day,
            end_reason,
            fired,
            now,
            reactions,
            beyond,
            streams: _,
            requeue: _,
            beyond_spare: _,
        } = o;
        self.horizon = *horizon;
        self.origin = *origin;
        copy_vec(&mut self.answered, answered);
        copy_vec(&mut self.answered_at, answered_at);
        self.max_events = *max_events;
        self.queue.clone_from(queue);
        self.modifier_work = *modifier_work;
        copy_vec(&mut self.counts, counts);
        copy_vec(&mut self.clocks, clocks);
        copy_vec(&mut self.clock_of, clock_of);
        copy_vec(&mut self.rate_steps, rate_steps);
        self.first_arrival = *first_arrival;
        // Both without a modifier started: both lists of multipliers are all 1 already.
        if self.modifiers_on || *modifiers_on {
            copy_vec(&mut self.rate_x, rate_x);
            copy_vec(&mut self.p_x, p_x);
            copy_vec(&mut self.rate_mods, rate_mods);
            copy_vec(&mut self.p_mods, p_mods);
        }
        self.modifiers_on = *modifiers_on;
        self.trial = *trial;
        self.level = *level;
        self.max_level = *max_level;
        copy_vec(&mut self.reached, reached);
        copy_vec(&mut self.tallies, tallies);
        copy_vec(&mut self.path, path);
        copy_vec(&mut self.changes, changes);
        self.end_day = *end_day;
        self.end_reason = *end_reason;
        self.fired = *fired;
        self.now = *now;
        copy_vec(&mut self.reactions, reactions);
        copy_vec(&mut self.beyond, beyond);
    }

    /// A continuation of a trial paused on day `now`: every queued reaction's remaining
    /// wait is drawn anew from its delay's law given that it has not come by `now`
    /// ([`Delay::sample_beyond`](crate::sim::dist::Delay::sample_beyond)). Given what
    /// happened up to `now`, those waits are independent of it and of one another, so this
    /// changes nothing in law, and continuations of one pause no longer share the day of
    /// their next reaction. Scheduled firings, excitations, window edges and the ends of
    /// modifiers keep their days.
    fn redraw_reactions(&mut self, m: &Model, now: f64) {
        let mut pending = std::mem::take(&mut self.requeue);
        self.queue.drain_into(&mut pending);
        // The reactions drawn past the horizon are pending too (they have not come by
        // `now`): they are drawn anew with the others, first.
        let beyond = std::mem::take(&mut self.beyond);
        let mut next_beyond = std::mem::take(&mut self.beyond_spare);
        next_beyond.clear();
        self.beyond = next_beyond;
        for &(kind, since) in &beyond {
            if let Kind::Fire { cause, .. } = kind {
                self.redraw_reaction(m, cause as usize, kind, since, now);
            }
        }
        self.beyond_spare = beyond;
        for &(key, kind) in &pending {
            let reaction = match kind {
                Kind::Fire { cause, .. } if cause != SCHEDULED && cause & (EXCITED | LOGGED) == 0 => {
                    let at = self.reactions.binary_search_by_key(&key.seq, |r| r.0);
                    at.ok().map(|i| (cause as usize, self.reactions[i].1))
                }
                _ => None,
            };
            match reaction {
                Some((ti, since)) => self.redraw_reaction(m, ti, kind, since, now),
                None => {
                    self.push(key.time(), kind);
                }
            }
        }
        pending.clear();
        self.requeue = pending;
    }

    /// Queues the reaction `kind` of trigger `ti` to a firing on day `since` again, its
    /// delay drawn given that it has not come by `now`.
    fn redraw_reaction(&mut self, m: &Model, ti: usize, kind: Kind, since: f64, now: f64) {
        let trig = &m.triggers[ti];
        let d = trig.delay.sample_beyond(now - since, self.streams.get(trig.step, Purpose::Delay));
        self.push_reaction(since + d, kind, since);
    }
}
