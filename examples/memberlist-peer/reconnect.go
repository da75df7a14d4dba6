package main

// A Serf-style reconnector. memberlist alone never contacts a member it
// declared dead again: probe() skips dead members, pushPull() picks only live
// ones, and gossip() reaches a dead member only while it has broadcasts queued
// and the death is younger than GossipToTheDeadTime; resetNodes() then drops
// the entry. Both sides of a healed partition hold each other dead and stay
// apart. HashiCorp's Serf, on top of memberlist, heals it: it keeps failed
// members (dead, not left) for ReconnectTimeout (24 h) and every
// ReconnectInterval (30 s) joins one of them at random, with a probability of
// failed/alive so that the group as a whole tries each failed member about
// once per interval (serf/serf.go, reconnect). This is that loop.

import (
	"log"
	"math/rand"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

type reconnectConfig struct {
	interval, timeout time.Duration
}

// reconnectDefaults: lan and wan are Serf's interval; its 24 h timeout is kept too.
// local tries every second (as the reference peer's local profile), and
// forgets a failed member after a minute, long enough for any scenario's
// partition and short enough that a member that is really gone stops costing
// a connection attempt while a run still goes on.
func reconnectDefaults(profile string) reconnectConfig {
	if profile == "lan" || profile == "wan" {
		return reconnectConfig{interval: 30 * time.Second, timeout: 24 * time.Hour}
	}
	return reconnectConfig{interval: time.Second, timeout: time.Minute}
}

type failedMember struct {
	address string
	since   time.Time
}

type reconnector struct {
	cfg  reconnectConfig
	self string

	mu     sync.Mutex
	failed map[string]failedMember
}

func newReconnector(self string, cfg reconnectConfig) *reconnector {
	return &reconnector{cfg: cfg, self: self, failed: map[string]failedMember{}}
}

// note is told every member's new state as the observer sees it change. A
// member's address outlives memberlist's entry for it: that is the point.
func (r *reconnector) note(e tableEntry) {
	if e.name == r.self {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.state {
	case memberlist.StateDead:
		if _, ok := r.failed[e.name]; !ok {
			r.failed[e.name] = failedMember{address: e.address, since: time.Now()}
		}
	default:
		// Alive or suspect: it is back. Left: it said goodbye, as Serf's left members, never retried.
		delete(r.failed, e.name)
	}
}

// pick expires old failures and, with Serf's probability, names one to try.
func (r *reconnector) pick(alive int) (string, failedMember, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, f := range r.failed {
		if time.Since(f.since) > r.cfg.timeout {
			log.Printf("reconnect: giving up on %s at %s, failed %s ago", name, f.address, time.Since(f.since).Round(time.Second))
			delete(r.failed, name)
		}
	}
	if len(r.failed) == 0 {
		return "", failedMember{}, false
	}
	if alive < 1 {
		alive = 1
	}
	if rand.Float64() > float64(len(r.failed))/float64(alive) {
		return "", failedMember{}, false
	}
	names := make([]string, 0, len(r.failed))
	for n := range r.failed {
		names = append(names, n)
	}
	name := names[rand.Intn(len(names))]
	return name, r.failed[name], true
}

// run tries one failed member per tick. Join blocks for up to TCPTimeout
// against a member that does not answer; ticks that pass meanwhile are
// dropped, so there is never more than one attempt in flight.
func (r *reconnector) run(ml *memberlist.Memberlist, stop <-chan struct{}, left func() bool) {
	untilStopped(r.cfg.interval, stop, left, func() {
		// NumMembers counts the live and suspect members, this one included: Serf's alive.
		name, f, ok := r.pick(ml.NumMembers())
		if !ok {
			return
		}
		log.Printf("reconnect: attempting %s at %s", name, f.address)
		if _, err := ml.Join([]string{f.address}); err != nil {
			log.Printf("reconnect: %s: %v", name, err)
		}
	})
}

// untilStopped calls work every interval, one call at a time (ticks that pass
// during a call are dropped), until stop is closed or the peer has left.
func untilStopped(interval time.Duration, stop <-chan struct{}, left func() bool, work func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if left() {
			return
		}
		work()
	}
}
