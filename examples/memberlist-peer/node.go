package main

// memberlist set up for a peerlab run: timing per profile, bound to --host for
// every socket (outgoing TCP included), and the knobs reported as peerlab's
// timing model names them.

import (
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// profileConfig is memberlist's own default for the profile: DefaultLANConfig
// for lan; for local, DefaultLocalConfig with the timing of peerlab's
// reference peer in its local profile, so that both judge by one model.
func profileConfig(profile string) (*memberlist.Config, error) {
	switch profile {
	case "lan":
		return memberlist.DefaultLANConfig(), nil
	case "local":
		c := memberlist.DefaultLocalConfig()
		c.ProbeInterval = 150 * time.Millisecond
		c.ProbeTimeout = 60 * time.Millisecond
		c.SuspicionMult = 4
		c.SuspicionMaxTimeoutMult = 4
		c.RetransmitMult = 4
		c.GossipInterval = 50 * time.Millisecond
		c.GossipNodes = 3
		c.IndirectChecks = 3
		c.PushPullInterval = 2 * time.Second
		c.TCPTimeout = 2 * time.Second
		return c, nil
	}
	return nil, fmt.Errorf("--profile: expected local or lan, got %q", profile)
}

// timing is the knobs under the names of checkers/src/swim-model.ts. Chat
// anti-entropy rides on push-pull, so its interval is PushPullInterval.
func timing(c *memberlist.Config) map[string]any {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	return map[string]any{
		"probeIntervalMs":         ms(c.ProbeInterval),
		"suspicionMult":           c.SuspicionMult,
		"suspicionMaxTimeoutMult": c.SuspicionMaxTimeoutMult,
		"gossipIntervalMs":        ms(c.GossipInterval),
		"gossipNodes":             c.GossipNodes,
		"retransmitMult":          c.RetransmitMult,
		"pushPullIntervalMs":      ms(c.PushPullInterval),
		"chatSyncIntervalMs":      ms(c.PushPullInterval),
		// Not read by the model; here so that the history says what ran.
		"probeTimeoutMs":         ms(c.ProbeTimeout),
		"tcpTimeoutMs":           ms(c.TCPTimeout),
		"gossipToTheDeadTimeMs":  ms(c.GossipToTheDeadTime),
		"deadNodeReclaimTimeMs":  ms(c.DeadNodeReclaimTime),
		"indirectChecks":         c.IndirectChecks,
		"awarenessMaxMultiplier": c.AwarenessMaxMultiplier,
	}
}

// boundTransport is memberlist's NetTransport with outgoing TCP connections
// bound to the peer's own address, so that rules keyed on (source,
// destination) addresses tell peers apart on a shared loopback.
type boundTransport struct {
	*memberlist.NetTransport
	local net.IP
}

func (t *boundTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: t.local}}
	return d.Dial("tcp", a.Addr)
}

func (t *boundTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// conflictReporter is memberlist's ConflictDelegate: another process claims a
// name this peer holds at another address (memberlist refuses it, and logs
// "Conflicting address"). Reported as an event so that the run's history
// shows why a restarted member is not taken back.
type conflictReporter struct {
	record  func(string, map[string]any)
	reclaim time.Duration
	last    map[string]time.Time
}

func (c *conflictReporter) NotifyConflict(existing, other *memberlist.Node) {
	key := existing.Name + " " + other.Address()
	if t, ok := c.last[key]; ok && time.Since(t) < 5*time.Second {
		return
	}
	c.last[key] = time.Now()
	state, inc := stateOf(existing)
	c.record("memberlist.conflict", map[string]any{
		"name": existing.Name, "address": existing.Address(), "state": stateName(state), "incarnation": inc,
		"claimed_by": other.Address(),
		"message": fmt.Sprintf("memberlist refused %s at %s: it holds %s %s at %s (incarnation %d), and gives a name to a new address only once it left, or was dead longer than DeadNodeReclaimTime (%s)",
			existing.Name, other.Address(), existing.Name, stateName(state), existing.Address(), inc, c.reclaim),
	})
}

// memberlist's [DEBUG] lines (every stream and ping) stay out of the log unless asked for.
type levelFilter struct {
	w     io.Writer
	debug bool
}

func (f levelFilter) Write(p []byte) (int, error) {
	if !f.debug && len(p) > 0 && containsDebug(p) {
		return len(p), nil
	}
	return f.w.Write(p)
}

func containsDebug(p []byte) bool {
	const tag = "[DEBUG]"
	for i := 0; i+len(tag) <= len(p) && i < 64; i++ {
		if string(p[i:i+len(tag)]) == tag {
			return true
		}
	}
	return false
}

type nodeOptions struct {
	name, host, profile string
	port                int
	reclaimDead         time.Duration
	debug               bool
	events              memberlist.EventDelegate
	delegate            memberlist.Delegate
	conflict            memberlist.ConflictDelegate
	logOut              io.Writer
}

func startNode(o nodeOptions) (*memberlist.Memberlist, *memberlist.Config, error) {
	conf, err := profileConfig(o.profile)
	if err != nil {
		return nil, nil, err
	}
	ip := net.ParseIP(o.host)
	if ip == nil {
		return nil, nil, fmt.Errorf("--host: expected an IP address, got %q", o.host)
	}
	logger := log.New(levelFilter{o.logOut, o.debug}, "", log.LstdFlags|log.Lmicroseconds)
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{o.host}, BindPort: o.port, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot bind %s:%d: %v", o.host, o.port, err)
	}
	conf.Name = o.name
	conf.BindAddr = o.host
	conf.AdvertiseAddr = o.host
	conf.BindPort = nt.GetAutoBindPort()
	conf.AdvertisePort = conf.BindPort
	conf.Transport = &boundTransport{NetTransport: nt, local: ip}
	conf.Logger = logger
	conf.Events = o.events
	conf.Delegate = o.delegate
	conf.Conflict = o.conflict
	conf.DeadNodeReclaimTime = o.reclaimDead
	m, err := memberlist.Create(conf)
	if err != nil {
		nt.Shutdown()
		return nil, nil, err
	}
	return m, conf, nil
}
