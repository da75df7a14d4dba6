package main

// The agent: registration, commands, event batches with resend, snapshots,
// reconnect with backoff and the grace period (docs/PROTOCOL.md 2-6).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/rand"
	"sync"
	"time"
)

type wireEvent struct {
	Seq  int64          `json:"seq"`
	Time int64          `json:"time"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

type handler func(ctx context.Context, args map[string]any) (result any, text string, err error)

type command struct {
	spec commandSpec
	run  handler
}

type agentConfig struct {
	name, coordinator, token, version, address, instance string
	pid                                                  int
	grace                                                time.Duration
	capabilities                                         map[string][]string
	snapshot                                             func() (any, error)
	exit                                                 func(code int, reason string)
}

type agent struct {
	cfg      agentConfig
	commands []command
	byName   map[string]command

	mu          sync.Mutex
	pending     []wireEvent
	nextSeq     int64
	conn        *sioConn // registered on this connection, or nil
	inFlight    bool
	scheduled   bool
	flushEvery  time.Duration
	maxBatch    int // events a batch carries at most: defaultMaxBatch, or the hello ack's maxBatchEvents when lower
	graceStart  time.Time
	flushSignal chan struct{}
}

// defaultMaxBatch is the reference agent's own bound on a batch; a coordinator expecting many peers asks for less.
const defaultMaxBatch = 5000

func newAgent(cfg agentConfig, commands []command) *agent {
	a := &agent{cfg: cfg, commands: commands, byName: map[string]command{}, nextSeq: 1, flushEvery: 50 * time.Millisecond, maxBatch: defaultMaxBatch}
	for _, c := range commands {
		a.byName[c.spec.Name] = c
	}
	return a
}

func (a *agent) specs() []commandSpec {
	out := make([]commandSpec, 0, len(a.commands))
	for _, c := range a.commands {
		out = append(out, c.spec)
	}
	return out
}

// record stamps an event with the next seq and the wall clock and queues it.
func (a *agent) record(kind string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	a.mu.Lock()
	a.pending = append(a.pending, wireEvent{Seq: a.nextSeq, Time: time.Now().UnixMilli(), Type: kind, Data: data})
	a.nextSeq++
	schedule := !a.scheduled
	a.scheduled = true
	every := a.flushEvery
	a.mu.Unlock()
	if schedule {
		time.AfterFunc(every, a.flush)
	}
}

func (a *agent) lastSeq() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nextSeq - 1
}

// flush sends the oldest pending events as one batch, one batch in flight.
func (a *agent) flush() {
	a.mu.Lock()
	a.scheduled = false
	conn := a.conn
	if conn == nil || a.inFlight || len(a.pending) == 0 {
		a.mu.Unlock()
		return
	}
	n := len(a.pending)
	if n > a.maxBatch {
		n = a.maxBatch
	}
	batch := append([]wireEvent(nil), a.pending[:n]...)
	a.inFlight = true
	a.mu.Unlock()

	raw, err := conn.emit("events", map[string]any{"peer": a.cfg.name, "events": batch}, 5*time.Second)
	var ack struct {
		OK       bool              `json:"ok"`
		LastSeq  int64             `json:"lastSeq"`
		Rejected []json.RawMessage `json:"rejected"`
		Error    *struct{ Message string }
	}
	if err == nil {
		err = json.Unmarshal(raw, &ack)
	}
	a.mu.Lock()
	a.inFlight = false
	if err == nil && ack.OK {
		last := batch[len(batch)-1].Seq
		i := 0
		for i < len(a.pending) && a.pending[i].Seq <= last {
			i++
		}
		a.pending = a.pending[i:]
	}
	// A refusal is not retried on a timer: the next registration, event or reply sends again.
	refused := err == nil && !ack.OK
	more := len(a.pending) > 0 && a.conn != nil && !a.scheduled && !refused
	if more {
		a.scheduled = true
	}
	every := a.flushEvery
	a.mu.Unlock()
	if err != nil {
		log.Printf("agent: events not acknowledged: %v", err)
	} else if !ack.OK && ack.Error != nil {
		log.Printf("agent: events refused: %s", ack.Error.Message)
	}
	for _, r := range ack.Rejected {
		log.Printf("agent: event rejected by the coordinator: %s", r)
	}
	if more {
		time.AfterFunc(every, a.flush)
	}
}

// drain sends what is pending, waiting at most d (shutdown, parent gone).
func (a *agent) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		empty, registered, busy := len(a.pending) == 0, a.conn != nil, a.inFlight
		a.mu.Unlock()
		if empty || !registered {
			return
		}
		if !busy {
			go a.flush()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *agent) disconnect() {
	a.mu.Lock()
	c := a.conn
	a.conn = nil
	a.mu.Unlock()
	if c != nil {
		c.disconnect()
	}
}

// run keeps a registered connection until the grace period runs out.
func (a *agent) run() {
	go a.watchGrace()
	delay := 100 * time.Millisecond
	for {
		conn, err := dialSIO(a.cfg.coordinator, a.cfg.token, 5*time.Second, a.onEvent)
		if err != nil {
			if errors.Is(err, errUnauthorized) {
				a.cfg.exit(3, "the coordinator refused the run token: "+err.Error())
				return
			}
			a.fail("cannot reach coordinator: " + err.Error())
		} else if a.register(conn) {
			delay = 100 * time.Millisecond
			<-conn.closed
			a.mu.Lock()
			if a.conn == conn {
				a.conn = nil
			}
			a.mu.Unlock()
			a.fail(fmt.Sprintf("disconnected: %v", conn.closeErr))
		} else {
			conn.close(errors.New("hello not answered"))
			a.fail("hello not answered")
		}
		jitter := 1 + (rand.Float64()*0.6 - 0.3)
		time.Sleep(time.Duration(float64(delay) * jitter))
		delay *= 2
		if delay > 2*time.Second {
			delay = 2 * time.Second
		}
	}
}

// fail starts the grace clock at the first failure; later ones leave it.
func (a *agent) fail(reason string) {
	log.Printf("agent: %s", reason)
	a.mu.Lock()
	if a.graceStart.IsZero() {
		a.graceStart = time.Now()
	}
	a.mu.Unlock()
}

func (a *agent) watchGrace() {
	for range time.Tick(50 * time.Millisecond) {
		a.mu.Lock()
		start := a.graceStart
		a.mu.Unlock()
		if !start.IsZero() && time.Since(start) > a.cfg.grace {
			a.cfg.exit(3, fmt.Sprintf("coordinator unreachable for %d ms", a.cfg.grace.Milliseconds()))
			return
		}
	}
}

func (a *agent) register(conn *sioConn) bool {
	hello := map[string]any{
		"protocol": 1, "peer": a.cfg.name, "pid": a.cfg.pid, "version": a.cfg.version,
		"address": a.cfg.address, "commands": a.specs(), "instance": a.cfg.instance,
		"capabilities": a.cfg.capabilities,
	}
	raw, err := conn.emit("hello", hello, 5*time.Second)
	if err != nil {
		return false
	}
	var ack struct {
		OK       bool   `json:"ok"`
		RunID    string `json:"runId"`
		Settings struct {
			FlushIntervalMs int64 `json:"flushIntervalMs"`
			// Optional: the coordinator holds every agent's batch until its turn, and sizes batches for the run.
			MaxBatchEvents int `json:"maxBatchEvents"`
		} `json:"settings"`
		Error *struct{ Message, Code string }
	}
	if err := json.Unmarshal(raw, &ack); err != nil {
		return false
	}
	if !ack.OK {
		msg := "hello refused"
		if ack.Error != nil {
			msg = fmt.Sprintf("hello refused (%s): %s", ack.Error.Code, ack.Error.Message)
		}
		a.cfg.exit(3, msg)
		return false
	}
	if ack.RunID == "" || len(ack.RunID) > 200 || ack.Settings.FlushIntervalMs < 1 {
		return false
	}
	a.mu.Lock()
	a.conn = conn
	a.graceStart = time.Time{}
	a.flushEvery = time.Duration(ack.Settings.FlushIntervalMs) * time.Millisecond
	a.maxBatch = defaultMaxBatch
	if ack.Settings.MaxBatchEvents >= 1 && ack.Settings.MaxBatchEvents < a.maxBatch {
		a.maxBatch = ack.Settings.MaxBatchEvents
	}
	a.mu.Unlock()
	go a.flush()
	return true
}

func (a *agent) onEvent(name string, arg json.RawMessage, ack func(any)) {
	switch name {
	case "ping":
		if ack != nil {
			ack(arg)
		}
	case "command":
		if ack != nil {
			ack(a.command(arg))
			go a.flush()
		}
	case "snapshot":
		if ack == nil {
			return
		}
		snap, err := a.cfg.snapshot()
		if err != nil {
			ack(map[string]any{"ok": false, "error": map[string]string{"message": err.Error(), "code": "failed"}})
			return
		}
		ack(map[string]any{"ok": true, "snapshot": snap})
	}
}

func errorReply(id string, code, message string, seq *int64) map[string]any {
	r := map[string]any{"id": id, "ok": false, "error": map[string]string{"message": message, "code": code}}
	if seq != nil {
		r["seq"] = *seq
	}
	return r
}

// command checks a request, runs its handler against the deadline and builds the reply.
func (a *agent) command(raw json.RawMessage) map[string]any {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(raw, &req); err != nil || req == nil {
		return errorReply("?", "bad-message", "command: expected an object", nil)
	}
	var id string
	if json.Unmarshal(req["id"], &id) != nil || id == "" || len(id) > 100 {
		return errorReply("?", "bad-message", "command.id: expected a string of 1-100 characters, got "+showOrNothing(req["id"]), nil)
	}
	var name string
	if json.Unmarshal(req["name"], &name) != nil || name == "" || len(name) > 64 {
		return errorReply(id, "bad-message", "command.name: expected a string of 1-64 characters, got "+showOrNothing(req["name"]), nil)
	}
	var timeout float64
	if json.Unmarshal(req["timeoutMs"], &timeout) != nil || timeout < 1 || timeout != float64(int64(timeout)) {
		return errorReply(id, "bad-message", "command.timeoutMs: expected an integer >= 1, got "+showOrNothing(req["timeoutMs"]), nil)
	}
	if rawArgs, ok := req["args"]; ok {
		var obj map[string]json.RawMessage
		if json.Unmarshal(rawArgs, &obj) != nil || obj == nil {
			return errorReply(id, "bad-message", "command.args: expected an object, got "+showOrNothing(rawArgs), nil)
		}
	}
	cmd, ok := a.byName[name]
	if !ok {
		seq := a.lastSeq()
		return errorReply(id, "unknown-command", fmt.Sprintf("unknown command %q. Type \"help\" for the list.", name), &seq)
	}
	args, err := validateArgs(cmd.spec, req["args"])
	if err != nil {
		seq := a.lastSeq()
		return errorReply(id, "bad-arguments", err.Error(), &seq)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Millisecond)
	defer cancel()
	type outcome struct {
		result any
		text   string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: failed("%s: %v", name, r)}
			}
		}()
		r, t, e := cmd.run(ctx, args)
		done <- outcome{r, t, e}
	}()
	select {
	case o := <-done:
		seq := a.lastSeq()
		if o.err != nil {
			code := "failed"
			var ce *cmdError
			if errors.As(o.err, &ce) {
				code = ce.code
			}
			return errorReply(id, code, o.err.Error(), &seq)
		}
		reply := map[string]any{"id": id, "ok": true, "result": o.result, "seq": seq}
		if j, _ := args["json"].(bool); o.text != "" && !j {
			reply["text"] = o.text
		}
		return reply
	case <-ctx.Done():
		seq := a.lastSeq()
		return errorReply(id, "timeout", fmt.Sprintf("%s did not finish within %d ms", name, int64(timeout)), &seq)
	}
}

func showOrNothing(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	return showJSON(raw)
}
