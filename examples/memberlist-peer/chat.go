package main

// Chat on memberlist: a message goes to every live member over memberlist's
// reliable (TCP) user messages, and each push-pull exchange carries the
// messages delivered so far, so one that a send missed arrives with the next
// state exchange (anti-entropy every PushPullInterval). Delivery is exactly
// once and in each sender's order: a message ahead of its stream waits.

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

// memberlist.Delegate

func (c *chat) NodeMeta(limit int) []byte { return nil }

func (c *chat) NotifyMsg(buf []byte) {
	var p struct {
		T string  `json:"t"`
		M chatMsg `json:"m"`
	}
	if json.Unmarshal(buf, &p) != nil || p.T != "chat" {
		return
	}
	c.mu.Lock()
	c.accept(p.M, true)
	c.mu.Unlock()
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
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		c.accept(m, false)
	}
}
