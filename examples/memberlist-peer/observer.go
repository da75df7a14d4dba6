package main

// Turns changes of memberlist's member table into the event contract's
// member.* events. The table is read every few milliseconds and whenever
// memberlist's EventDelegate says something changed; each read is compared
// with the previous one, so events follow the table as memberlist keeps it.

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

type observer struct {
	self   string
	table  *table
	record func(kind string, data map[string]any)

	mu    sync.Mutex
	known map[string]tableEntry
	poke  chan struct{}
	// watch, if set, is told each member's new state (called under mu).
	watch func(tableEntry)
}

func newObserver(self string, t *table, record func(string, map[string]any)) *observer {
	o := &observer{self: self, table: t, record: record, known: map[string]tableEntry{}, poke: make(chan struct{}, 1)}
	// The view starts with this peer alone (peer.started says so).
	if e, ok := t.read()[self]; ok {
		o.known[self] = e
	}
	return o
}

func (o *observer) run(stop <-chan struct{}, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		case <-o.poke:
		}
		o.diff()
	}
}

// nudge asks for a read now; safe under memberlist's lock (never blocks).
func (o *observer) nudge() {
	select {
	case o.poke <- struct{}{}:
	default:
	}
}

func (o *observer) diff() {
	// The read is taken under mu: leave() diffs beside the ticker's loop, and a read taken before the other
	// diff's newer one but applied after it turned a member's left back into alive at the same incarnation.
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.table.read()
	names := make([]string, 0, len(now)+len(o.known))
	for n := range now {
		names = append(names, n)
	}
	for n := range o.known {
		if _, ok := now[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		cur, present := now[name]
		old, had := o.known[name]
		switch {
		case !present:
			// memberlist forgets dead and left members after GossipToTheDeadTime.
			delete(o.known, name)
			if old.state == memberlist.StateDead || old.state == memberlist.StateLeft {
				o.record("member.reaped", map[string]any{"name": name, "state": stateName(old.state), "incarnation": old.incarnation})
			}
		case !had:
			// A member first seen dead or left was never alive in this view: wait for news of life.
			if cur.state == memberlist.StateAlive || cur.state == memberlist.StateSuspect {
				o.record("member.joined", map[string]any{"name": name, "address": cur.address, "incarnation": cur.incarnation})
				o.known[name] = tableEntry{name: name, address: cur.address, state: memberlist.StateAlive, incarnation: cur.incarnation}
				o.tell(cur)
				if cur.state == memberlist.StateSuspect {
					o.transition(o.known[name], cur)
				}
			}
		default:
			o.transition(old, cur)
		}
	}
}

func (o *observer) transition(old, cur tableEntry) {
	name := cur.name
	o.known[name] = cur
	if old.state != cur.state || old.address != cur.address {
		o.tell(cur)
	}
	if old.state == cur.state {
		if cur.state == memberlist.StateAlive && (old.incarnation != cur.incarnation || old.address != cur.address) {
			reason := "incarnation"
			if name == o.self {
				reason = "refute"
			} else if old.address != cur.address {
				reason = "address"
			}
			o.record("member.updated", map[string]any{"name": name, "address": cur.address, "incarnation": cur.incarnation, "reason": reason})
		}
		return
	}
	switch cur.state {
	case memberlist.StateAlive:
		o.record("member.alive", map[string]any{"name": name, "address": cur.address, "incarnation": cur.incarnation, "previous": stateName(old.state)})
	case memberlist.StateSuspect:
		o.record("member.suspect", map[string]any{"name": name, "incarnation": cur.incarnation, "from": o.self})
	case memberlist.StateDead:
		o.record("member.dead", map[string]any{"name": name, "incarnation": cur.incarnation, "from": o.self})
	case memberlist.StateLeft:
		o.record("member.left", map[string]any{"name": name, "incarnation": cur.incarnation})
	}
}

func (o *observer) tell(e tableEntry) {
	if o.watch != nil {
		o.watch(e)
	}
}

// view is what this peer holds now, as last reported.
func (o *observer) view() []tableEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]tableEntry, 0, len(o.known))
	for _, e := range o.known {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// eventNudger is memberlist's EventDelegate: it only says "look now". It is
// handed to memberlist before the observer exists, hence the pointer.
type eventNudger struct{ o atomic.Pointer[observer] }

func (e *eventNudger) nudge() {
	if o := e.o.Load(); o != nil {
		o.nudge()
	}
}
func (e *eventNudger) NotifyJoin(*memberlist.Node)   { e.nudge() }
func (e *eventNudger) NotifyLeave(*memberlist.Node)  { e.nudge() }
func (e *eventNudger) NotifyUpdate(*memberlist.Node) { e.nudge() }
