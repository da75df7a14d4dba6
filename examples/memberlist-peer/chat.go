package main

// Chat on memberlist: a message goes to every live member over memberlist's
// reliable (TCP) user messages. One that a send missed (a cut link, a lost
// connection) is repaired by anti-entropy: every sync interval each member
// sends its digest to one random live member, and the two send each other
// what the other lacks, as the reference peer does on its chatSyncIntervalMs.
// memberlist's push-pull carries the delivered messages too, which catches a
// joiner up at once. Delivery is exactly once and in each sender's order: a
// message ahead of its stream waits.

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

type chatMsg struct {
	ID     string `json:"id"`
	Sender string `json:"sender"`
	Epoch  string `json:"epoch"`
	Seq    int    `json:"seq"`
	Text   string `json:"text"`
	SentAt int64  `json:"sentAt"`
}

type delivered struct {
	chatMsg
	DeliveredAt int64
}

type chat struct {
	self   string
	epoch  string
	record func(string, map[string]any)
	list   func() *memberlist.Memberlist

	mu         sync.Mutex
	sent       int
	order      []delivered
	seen       map[string]bool
	next       map[string]int             // stream -> next seq to deliver
	held       map[string]map[int]chatMsg // stream -> seq -> waiting message
	heldCount  int
	duplicates int
}

func newChat(self string, record func(string, map[string]any), list func() *memberlist.Memberlist) *chat {
	return &chat{
		self: self, epoch: strconv.FormatInt(time.Now().UnixMilli(), 36) + strconv.FormatInt(rand.Int63n(1296), 36),
		record: record, list: list,
		seen: map[string]bool{}, next: map[string]int{}, held: map[string]map[int]chatMsg{},
	}
}

func stream(m chatMsg) string { return m.Sender + ":" + m.Epoch }

func (c *chat) send(text string) (chatMsg, error) {
	ml := c.list()
	c.mu.Lock()
	c.sent++
	m := chatMsg{Sender: c.self, Epoch: c.epoch, Seq: c.sent, Text: text, SentAt: time.Now().UnixMilli()}
	m.ID = fmt.Sprintf("%s:%s:%d", m.Sender, m.Epoch, m.Seq)
	c.record("chat.sent", map[string]any{"id": m.ID, "sender": m.Sender, "seq": m.Seq, "text": m.Text, "deps": []string{}})
	c.accept(m, false)
	c.mu.Unlock()
	payload, err := json.Marshal(map[string]any{"t": "chat", "m": m})
	if err != nil {
		return m, err
	}
	for _, n := range ml.Members() {
		if n.Name == c.self {
			continue
		}
		node := n
		go func() {
			if err := ml.SendReliable(node, payload); err != nil {
				// The next push-pull brings it there.
				logf("chat: send %s to %s: %v", m.ID, node.Name, err)
			}
		}()
	}
	return m, nil
}

// accept delivers a message if it is its stream's next, else holds it. Under c.mu.
func (c *chat) accept(m chatMsg, counted bool) {
	if m.ID == "" || m.Sender == "" || m.Seq < 1 {
		return
	}
	s := stream(m)
	if c.seen[m.ID] || (c.next[s] != 0 && m.Seq < c.next[s]) {
		if counted {
			c.duplicates++
		}
		return
	}
	if c.next[s] == 0 {
		c.next[s] = 1
	}
	if m.Seq > c.next[s] {
		if c.held[s] == nil {
			c.held[s] = map[int]chatMsg{}
		}
		if _, already := c.held[s][m.Seq]; !already {
			c.held[s][m.Seq] = m
			c.heldCount++
		}
		return
	}
	c.deliver(m)
	for {
		w, ok := c.held[s][c.next[s]]
		if !ok {
			break
		}
		delete(c.held[s], w.Seq)
		c.heldCount--
		c.deliver(w)
	}
}

func (c *chat) deliver(m chatMsg) {
	c.seen[m.ID] = true
	c.next[stream(m)] = m.Seq + 1
	c.order = append(c.order, delivered{m, time.Now().UnixMilli()})
	c.record("chat.delivered", map[string]any{"id": m.ID, "sender": m.Sender, "seq": m.Seq, "sentAt": m.SentAt, "deps": []string{}})
}

func (c *chat) snapshot() (ids []string, duplicates, held int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.order {
		ids = append(ids, d.ID)
	}
	return ids, c.duplicates, c.heldCount
}

// chatSyncInterval is the reference peer's chatSyncIntervalMs for the
// profile. memberlist's push-pull (2 s in local) alone was too slow a repair:
// across a one-way cut a member that picked the cut side, or was not picked,
// waited whole intervals, and 1 delivery in about 40 missed a 5 s bound.
func chatSyncInterval(profile string) time.Duration {
	switch profile {
	case "lan":
		return time.Second
	case "wan":
		return 2500 * time.Millisecond
	}
	return 300 * time.Millisecond
}

// digest is, per stream, the next sequence number to deliver: everything
// below it was delivered here (delivery is in order, so that is exact).
type digest map[string]int

func (c *chat) digestLocked() digest {
	d := digest{}
	for s, n := range c.next {
		d[s] = n
	}
	return d
}

// missingFrom is what was delivered here that a member with digest d lacks, in delivery order. Under c.mu.
func (c *chat) missingFrom(d digest) []chatMsg {
	var out []chatMsg
	for _, m := range c.order {
		if next := d[stream(m.chatMsg)]; next == 0 || m.Seq >= next {
			out = append(out, m.chatMsg)
		}
	}
	return out
}

// lacks is whether a member with digest d delivered something not delivered here. Under c.mu.
func (c *chat) lacks(d digest) bool {
	for s, n := range d {
		have := c.next[s]
		if have == 0 {
			have = 1
		}
		if n > have {
			return true
		}
	}
	return false
}

type syncMsg struct {
	T      string    `json:"t"` // "sync" or "sync-reply" (a digest), "batch" (messages)
	From   string    `json:"from"`
	Digest digest    `json:"d,omitempty"`
	Msgs   []chatMsg `json:"m,omitempty"`
}

// runSync starts one anti-entropy exchange every interval until stop, or until the peer left.
func (c *chat) runSync(interval time.Duration, stop <-chan struct{}, left func() bool) {
	untilStopped(interval, stop, left, func() {
		var others []*memberlist.Node
		for _, n := range c.list().Members() {
			if n.Name != c.self {
				others = append(others, n)
			}
		}
		if len(others) == 0 {
			return
		}
		c.mu.Lock()
		d := c.digestLocked()
		c.mu.Unlock()
		c.sendTo(others[rand.Intn(len(others))], syncMsg{T: "sync", From: c.self, Digest: d})
	})
}

// sendTo sends without blocking the caller: a connect across a cut link waits TCPTimeout.
func (c *chat) sendTo(node *memberlist.Node, m syncMsg) {
	payload, err := json.Marshal(m)
	if err != nil {
		return
	}
	go func() {
		if err := c.list().SendReliable(node, payload); err != nil {
			logf("chat: %s to %s: %v", m.T, node.Name, err)
		}
	}()
}

// member is the live member of that name, or nil; nil too while memberlist is
// still being set up (members that knew an earlier process at this address
// can send a digest that early).
func (c *chat) member(name string) *memberlist.Node {
	ml := c.list()
	if ml == nil {
		return nil
	}
	for _, n := range ml.Members() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// onSync answers a digest: with what its sender lacks, and, to a first
// digest only, with this member's digest when the sender has something this
// member lacks (so one exchange is at most three messages, and never loops).
func (c *chat) onSync(m syncMsg) {
	node := c.member(m.From)
	if node == nil {
		return
	}
	c.mu.Lock()
	missing := c.missingFrom(m.Digest)
	var mine digest
	if m.T == "sync" && c.lacks(m.Digest) {
		mine = c.digestLocked()
	}
	c.mu.Unlock()
	if len(missing) > 0 {
		c.sendTo(node, syncMsg{T: "batch", From: c.self, Msgs: missing})
	}
	if mine != nil {
		c.sendTo(node, syncMsg{T: "sync-reply", From: c.self, Digest: mine})
	}
}

// memberlist.Delegate

func (c *chat) NodeMeta(limit int) []byte { return nil }

func (c *chat) NotifyMsg(buf []byte) {
	var kind struct {
		T string `json:"t"`
	}
	if json.Unmarshal(buf, &kind) != nil {
		return
	}
	switch kind.T {
	case "chat":
		var p struct {
			M chatMsg `json:"m"`
		}
		if json.Unmarshal(buf, &p) == nil {
			c.mu.Lock()
			c.accept(p.M, true)
			c.mu.Unlock()
		}
	case "sync", "sync-reply":
		var m syncMsg
		if json.Unmarshal(buf, &m) == nil && m.From != "" && m.From != c.self {
			// Not on memberlist's handler goroutine: the answer may wait on a connect.
			go c.onSync(m)
		}
	case "batch":
		var m syncMsg
		if json.Unmarshal(buf, &m) == nil {
			c.acceptAll(m.Msgs)
		}
	}
}

func (c *chat) GetBroadcasts(overhead, limit int) [][]byte { return nil }

func (c *chat) LocalState(join bool) []byte {
	c.mu.Lock()
	msgs := make([]chatMsg, 0, len(c.order))
	for _, d := range c.order {
		msgs = append(msgs, d.chatMsg)
	}
	c.mu.Unlock()
	b, _ := json.Marshal(msgs)
	return b
}

func (c *chat) MergeRemoteState(buf []byte, join bool) {
	var msgs []chatMsg
	if json.Unmarshal(buf, &msgs) != nil {
		return
	}
	c.acceptAll(msgs)
}

// acceptAll takes messages that a state exchange brought, not a send: one
// already delivered is not counted as a duplicate delivery.
func (c *chat) acceptAll(msgs []chatMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		c.accept(m, false)
	}
}
