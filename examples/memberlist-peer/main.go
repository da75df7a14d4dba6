// memberlist-peer: a peerlab peer on HashiCorp memberlist. It speaks the agent
// protocol itself (docs/PROTOCOL.md) and runs membership on memberlist as
// memberlist is, so that peerlab judges the library rather than a re-implementation.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	mrand "math/rand"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

const version = "0.1.0"
const memberlistVersion = "0.2.2"

var capabilities = map[string][]string{"events": {"membership", "chat", "traffic"}, "fields": {"incarnation"}}

// countersInterval is how often net.counters goes out, as the reference peer's.
const countersInterval = time.Second

func logf(format string, a ...any) { log.Printf(format, a...) }

type peer struct {
	name, address, profile string
	ml                     *memberlist.Memberlist
	conf                   *memberlist.Config
	table                  *table
	observer               *observer
	chat                   *chat
	agent                  *agent
	boot                   bootstrapClient
	left                   atomic.Bool
	stopped                chan struct{}
	exitOnce               sync.Once
}

type flags struct {
	values      map[string]string
	describe    bool
	debug       bool
	noReconnect bool
}

// parseFlags reads --name value and --name=value, and skips what it does not know.
func parseFlags(argv []string) flags {
	withValue := map[string]bool{"name": true, "names": true, "port": true, "host": true, "profile": true, "coordinator": true,
		"agent-grace": true, "bootstrap": true, "data-dir": true, "token": true, "reclaim-dead": true, "join": true,
		"reconnect-interval": true, "reconnect-timeout": true}
	f := flags{values: map[string]string{}}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		key, val, hasVal := strings.Cut(a[2:], "=")
		switch {
		case key == "describe-commands":
			f.describe = true
		case key == "debug":
			f.debug = true
		case key == "no-reconnect":
			f.noReconnect = true
		case withValue[key] && hasVal:
			f.values[key] = val
		case withValue[key] && i+1 < len(argv):
			f.values[key] = argv[i+1]
			i++
		}
	}
	return f
}

func usageExit(msg string) {
	fmt.Fprintf(os.Stderr, "memberlist-peer: %s\n", msg)
	os.Exit(2)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func main() {
	f := parseFlags(os.Args[1:])
	var p peer
	if f.describe {
		out, _ := json.Marshal(map[string]any{"commands": specsOf(p.commands()), "capabilities": capabilities})
		fmt.Println(string(out))
		return
	}
	if _, ok := f.values["names"]; ok {
		usageExit("--names: this peer runs one member per process; use peers_per_process 1")
	}
	p.name = f.values["name"]
	if !validName(p.name) {
		usageExit(fmt.Sprintf("--name: expected 1-64 characters of [A-Za-z0-9._-], got %q", p.name))
	}
	log.SetPrefix(p.name + " ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	coordinator := f.values["coordinator"]
	if coordinator == "" {
		usageExit("--coordinator <url> is required")
	}
	host := valueOr(f.values["host"], "127.0.0.1")
	port, err := strconv.Atoi(valueOr(f.values["port"], "0"))
	if err != nil || port < 0 || port > 65535 {
		usageExit("--port: expected 0-65535")
	}
	p.profile = valueOr(f.values["profile"], "local")
	graceMs, err := strconv.Atoi(valueOr(f.values["agent-grace"], "5000"))
	if err != nil || graceMs < 1 {
		usageExit("--agent-grace: expected a positive number of ms")
	}
	var reclaim time.Duration
	if v := f.values["reclaim-dead"]; v != "" {
		if reclaim, err = time.ParseDuration(v); err != nil || reclaim < 0 {
			usageExit(fmt.Sprintf("--reclaim-dead: expected a duration such as 1s, got %q", v))
		}
	}
	var reconnect *reconnectConfig
	if !f.noReconnect {
		rc := reconnectDefaults(p.profile)
		for _, k := range []struct {
			flag string
			to   *time.Duration
		}{{"reconnect-interval", &rc.interval}, {"reconnect-timeout", &rc.timeout}} {
			if v := f.values[k.flag]; v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					usageExit(fmt.Sprintf("--%s: expected a positive duration such as 1s, got %q", k.flag, v))
				}
				*k.to = d
			}
		}
		reconnect = &rc
	}
	if dir := f.values["data-dir"]; dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			usageExit(fmt.Sprintf("--data-dir: %v", err))
		}
	}
	token := f.values["token"]
	if token == "" {
		token = os.Getenv("PEERLAB_TOKEN")
	}
	bootToken := os.Getenv("PEERLAB_BOOTSTRAP_TOKEN")
	if bootToken == "" {
		bootToken = os.Getenv("PEERLAB_TOKEN")
	}
	p.boot = bootstrapClient{url: f.values["bootstrap"], token: bootToken}
	p.stopped = make(chan struct{})

	// The agent exists before memberlist so that everything memberlist
	// reports from its first moment has somewhere to go.
	p.agent = newAgent(agentConfig{
		name: p.name, coordinator: coordinator, token: token, version: version + " (memberlist " + memberlistVersion + ")",
		instance: randomID(), pid: os.Getpid(), grace: time.Duration(graceMs) * time.Millisecond,
		capabilities: capabilities, snapshot: p.snapshot, exit: p.exit,
	}, p.commands())
	nudger := &eventNudger{}
	counts := &counters{}
	p.chat = newChat(p.name, p.agent.record, func() *memberlist.Memberlist { return p.ml })
	ml, conf, err := startNode(nodeOptions{
		name: p.name, host: host, port: port, profile: p.profile, reclaimDead: reclaim, debug: f.debug,
		events: nudger, delegate: p.chat, logOut: os.Stderr, counts: counts,
		conflict: &conflictReporter{record: p.agent.record, reclaim: reclaim, last: map[string]time.Time{}},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "memberlist-peer: %v\n", err)
		if strings.HasPrefix(err.Error(), "--") {
			os.Exit(2)
		}
		os.Exit(1)
	}
	p.ml, p.conf = ml, conf
	p.address = net.JoinHostPort(host, strconv.Itoa(conf.AdvertisePort))
	p.agent.cfg.address = p.address
	if p.table, err = openTable(ml); err != nil {
		fmt.Fprintf(os.Stderr, "memberlist-peer: cannot read memberlist's member table: %v\n", err)
		os.Exit(1)
	}
	self := p.table.read()[p.name]
	p.agent.record("peer.started", map[string]any{"address": p.address, "incarnation": self.incarnation, "profile": p.profile, "timing": timing(conf, chatSyncInterval(p.profile), reconnect)})
	p.observer = newObserver(p.name, p.table, p.agent.record)
	if reconnect != nil {
		r := newReconnector(p.name, *reconnect)
		p.observer.watch = r.note
		go r.run(ml, p.stopped, p.left.Load)
	}
	nudger.o.Store(p.observer)
	go p.chat.runSync(chatSyncInterval(p.profile), p.stopped, p.left.Load)
	go p.observer.run(p.stopped, 10*time.Millisecond)
	go func() {
		for range time.Tick(countersInterval) {
			p.agent.record("net.counters", counts.snapshot())
		}
	}()
	reconnecting := "off (--no-reconnect)"
	if reconnect != nil {
		reconnecting = fmt.Sprintf("every %s for %s", reconnect.interval, reconnect.timeout)
	}
	log.Printf("memberlist %s on %s, profile %s, DeadNodeReclaimTime %s, reconnect %s", memberlistVersion, p.address, p.profile, reclaim, reconnecting)

	go p.agent.run()
	go p.watchParent()
	go p.watchSignals()

	var seeds []string
	if v := f.values["join"]; v != "" {
		seeds = strings.Split(v, ",")
	}
	go p.startJoin(seeds)
	select {}
}

func specsOf(cs []command) []commandSpec {
	out := []commandSpec{}
	for _, c := range cs {
		out = append(out, c.spec)
	}
	return out
}

func valueOr(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func validName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// joinSeeds joins through each seed in turn; the first that answers makes this peer a member.
func (p *peer) joinSeeds(seeds []string) (string, error) {
	via := ""
	var lastErr error
	for _, s := range seeds {
		if s == p.address {
			continue
		}
		n, err := p.ml.Join([]string{s})
		if err != nil || n == 0 {
			lastErr = err
			continue
		}
		if via == "" {
			via = s
			p.agent.record("peer.joined", map[string]any{"via": s, "seeds": len(seeds)})
		}
	}
	if via == "" {
		if lastErr == nil {
			lastErr = errors.New("no seed answered")
		}
		return "", lastErr
	}
	return via, nil
}

// bootstrapJoin asks the service for contacts and joins through 3 of them at random.
func (p *peer) bootstrapJoin() (map[string]any, error) {
	contacts, err := p.boot.join(p.name, p.address)
	if err != nil {
		return nil, err
	}
	var seeds []string
	for _, c := range contacts {
		if parseSeed(c.Address) == nil && c.Address != p.address && c.Name != p.name {
			seeds = append(seeds, c.Address)
		}
	}
	mrand.Shuffle(len(seeds), func(i, j int) { seeds[i], seeds[j] = seeds[j], seeds[i] })
	if len(seeds) > 3 {
		seeds = seeds[:3]
	}
	if len(seeds) == 0 {
		return map[string]any{"via": nil, "seeds": 0, "members": p.ml.NumMembers()}, nil
	}
	via, err := p.joinSeeds(seeds)
	if err != nil {
		return nil, err
	}
	return map[string]any{"via": via, "seeds": len(seeds), "members": p.ml.NumMembers()}, nil
}

// startJoin joins at start, retrying in the background until a try succeeds,
// the service has no contacts, or someone joined through this peer.
func (p *peer) startJoin(seeds []string) {
	if len(seeds) == 0 && p.boot.url == "" {
		return
	}
	delays := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for try := 0; ; try++ {
		var err error
		if len(seeds) > 0 {
			_, err = p.joinSeeds(seeds)
		} else {
			_, err = p.bootstrapJoin()
		}
		if err == nil {
			return
		}
		log.Printf("join: %v", err)
		d := 10 * time.Second
		if try < len(delays) {
			d = delays[try]
		}
		select {
		case <-p.stopped:
			return
		case <-time.After(d):
		}
		if p.ml.NumMembers() > 1 || p.left.Load() {
			return
		}
	}
}

// leave leaves the group through memberlist (it broadcasts its own death as
// "left" and waits for it to go out) and tells the bootstrap service.
func (p *peer) leave() error {
	if p.left.Swap(true) {
		return nil
	}
	// Leave waits for its broadcast to go out (one gossip round, 50 or 200 ms);
	// bounded well inside the 3 s the coordinator gives a SIGTERM.
	err := p.ml.Leave(time.Second)
	p.observer.diff()
	if p.boot.url != "" {
		if berr := p.boot.leave(p.name); berr != nil {
			log.Printf("bootstrap leave: %v", berr)
		}
	}
	return err
}

func (p *peer) snapshot() (any, error) {
	members := []map[string]any{}
	for _, e := range p.observer.view() {
		members = append(members, map[string]any{"name": e.name, "address": e.address, "state": stateName(e.state), "incarnation": e.incarnation})
	}
	ids, dups, held := p.chat.snapshot()
	if ids == nil {
		ids = []string{}
	}
	return map[string]any{"peer": p.name, "time": time.Now().UnixMilli(), "members": members,
		"messages": map[string]any{"count": len(ids), "ids": ids},
		"extra":    map[string]any{"duplicates": dups, "held": held, "memberlist": memberlistVersion}}, nil
}

// exit ends the process without leaving the group (codes 3 and 4).
func (p *peer) exit(code int, reason string) {
	p.exitOnce.Do(func() {
		log.Printf("exiting: %s", reason)
		if code == 4 {
			p.agent.drain(time.Second)
		}
		os.Exit(code)
	})
}

func (p *peer) watchParent() {
	want, err := strconv.Atoi(os.Getenv("PEERLAB_PARENT_PID"))
	if err != nil || want < 1 {
		return
	}
	for range time.Tick(250 * time.Millisecond) {
		if os.Getppid() != want {
			p.exit(4, fmt.Sprintf("parent %d is gone", want))
			return
		}
	}
}

// watchSignals: SIGTERM/SIGINT leave gracefully and exit 0; a second one exits at once.
func (p *peer) watchSignals() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	first := <-ch
	go func() {
		second := <-ch
		if second == syscall.SIGINT {
			os.Exit(130)
		}
		os.Exit(143)
	}()
	log.Printf("%v: leaving", first)
	p.exitOnce.Do(func() {
		if err := p.leave(); err != nil {
			log.Printf("leave: %v", err)
		}
		p.agent.drain(time.Second)
		p.agent.disconnect()
		close(p.stopped)
		_ = p.ml.Shutdown()
		os.Exit(0)
	})
}
