package main

// memberlist set up for a peerlab run: timing per profile, bound to --host for
// every socket (outgoing TCP included), and the knobs reported as peerlab's
// timing model names them.

import (
	"fmt"
	"io"
	"log"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// profileConfig is memberlist's own default for the profile: DefaultLANConfig
// for lan, DefaultWANConfig for wan; for local, DefaultLocalConfig with the
// timing of peerlab's reference peer in its local profile, so that both judge
// by one model.
func profileConfig(profile string) (*memberlist.Config, error) {
	switch profile {
	case "lan":
		return memberlist.DefaultLANConfig(), nil
	case "wan":
		return memberlist.DefaultWANConfig(), nil
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
	return nil, fmt.Errorf("--profile: expected local, lan or wan, got %q", profile)
}

// timing is the knobs under the names of checkers/src/swim-model.ts. Chat
// anti-entropy has its own interval, the reference peer's (chatSyncInterval).
// The reconnector's knobs (0 when --no-reconnect) are the reference peer's
// reconnectIntervalMs, which the model does not read either.
func timing(c *memberlist.Config, chatSync time.Duration, r *reconnectConfig) map[string]any {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	var rc reconnectConfig
	if r != nil {
		rc = *r
	}
	return map[string]any{
		"probeIntervalMs":         ms(c.ProbeInterval),
		"suspicionMult":           c.SuspicionMult,
		"suspicionMaxTimeoutMult": c.SuspicionMaxTimeoutMult,
		"gossipIntervalMs":        ms(c.GossipInterval),
		"gossipNodes":             c.GossipNodes,
		"retransmitMult":          c.RetransmitMult,
		"pushPullIntervalMs":      ms(c.PushPullInterval),
		"chatSyncIntervalMs":      ms(chatSync),
		// Not read by the model; here so that the history says what ran.
		"probeTimeoutMs":         ms(c.ProbeTimeout),
		"tcpTimeoutMs":           ms(c.TCPTimeout),
		"gossipToTheDeadTimeMs":  ms(c.GossipToTheDeadTime),
		"deadNodeReclaimTimeMs":  ms(c.DeadNodeReclaimTime),
		"indirectChecks":         c.IndirectChecks,
		"awarenessMaxMultiplier": c.AwarenessMaxMultiplier,
		"reconnectIntervalMs":    ms(rc.interval),
		"reconnectTimeoutMs":     ms(rc.timeout),
	}
}

// boundTransport is memberlist's NetTransport with outgoing TCP connections
// bound to the peer's own address, so that rules keyed on (source,
// destination) addresses tell peers apart on a shared loopback. It also
// counts what the peer sends, for net.counters.
type boundTransport struct {
	*memberlist.NetTransport
	local   net.IP
	counts  *counters
	streams chan net.Conn
}

func newBoundTransport(nt *memberlist.NetTransport, local net.IP, counts *counters) *boundTransport {
	t := &boundTransport{NetTransport: nt, local: local, counts: counts, streams: make(chan net.Conn)}
	go func() {
		// Replies on inbound connections are bytes this peer writes too.
		for c := range nt.StreamCh() {
			t.streams <- &countingConn{Conn: c, counts: counts}
		}
	}()
	return t
}

func (t *boundTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.counts.datagram(len(b))
	return t.NetTransport.WriteTo(b, addr)
}

func (t *boundTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.counts.datagram(len(b))
	return t.NetTransport.WriteToAddress(b, a)
}

func (t *boundTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: t.local}}
	c, err := d.Dial("tcp", a.Addr)
	if err != nil {
		return nil, err
	}
	t.counts.tcpOut.Add(1)
	return &countingConn{Conn: c, counts: t.counts}, nil
}

func (t *boundTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *boundTransport) StreamCh() <-chan net.Conn { return t.streams }

// counters are the cumulative figures of net.counters, from 0 in each process.
type counters struct {
	udpOut, udpOutBytes, tcpOut, tcpOutBytes atomic.Int64
}

func (c *counters) datagram(n int) {
	c.udpOut.Add(1)
	c.udpOutBytes.Add(int64(n))
}

func (c *counters) snapshot() map[string]any {
	return map[string]any{"udpOut": c.udpOut.Load(), "udpOutBytes": c.udpOutBytes.Load(), "tcpOut": c.tcpOut.Load(), "tcpOutBytes": c.tcpOutBytes.Load()}
}

type countingConn struct {
	net.Conn
	counts *counters
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.counts.tcpOutBytes.Add(int64(n))
	return n, err
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
	counts              *counters
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
	conf.Transport = newBoundTransport(nt, ip, o.counts)
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
