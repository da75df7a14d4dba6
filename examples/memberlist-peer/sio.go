package main

// A Socket.IO v4 client (Engine.IO 4 over one websocket, no polling) that
// does what the agent protocol needs: auth on connect, events with acks both
// ways, heartbeat. Debian packages no socket.io client for Go, and the frames
// are simple (docs/PROTOCOL.md, appendix A).

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

var errUnauthorized = errors.New("unauthorized")

type sioConn struct {
	ws       *websocket.Conn
	writeMu  sync.Mutex
	mu       sync.Mutex
	nextAck  int
	acks     map[int]chan json.RawMessage
	closed   chan struct{}
	closeErr error
	once     sync.Once
	// onEvent runs in its own goroutine per event; ack is nil when the
	// sender asked for none.
	onEvent func(name string, arg json.RawMessage, ack func(v any))
	idle    time.Duration
}

type eioOpen struct {
	PingInterval int `json:"pingInterval"`
	PingTimeout  int `json:"pingTimeout"`
}

// dialSIO opens the websocket, completes both handshakes and starts reading.
func dialSIO(coordinator, token string, timeout time.Duration, onEvent func(string, json.RawMessage, func(any))) (*sioConn, error) {
	base, err := url.Parse(coordinator)
	if err != nil {
		return nil, fmt.Errorf("coordinator url: %v", err)
	}
	wsURL := *base
	switch base.Scheme {
	case "http":
		wsURL.Scheme = "ws"
	case "https":
		wsURL.Scheme = "wss"
	}
	wsURL.Path = strings.TrimSuffix(base.Path, "/") + "/socket.io/"
	wsURL.RawQuery = "EIO=4&transport=websocket"
	origin := base.Scheme + "://" + base.Host
	config, err := websocket.NewConfig(wsURL.String(), origin)
	if err != nil {
		return nil, err
	}
	config.Dialer = &net.Dialer{Timeout: timeout}
	ws, err := websocket.DialConfig(config)
	if err != nil {
		return nil, err
	}
	ws.MaxPayloadBytes = 16 << 20
	c := &sioConn{ws: ws, acks: map[int]chan json.RawMessage{}, closed: make(chan struct{}), onEvent: onEvent}
	deadline := time.Now().Add(timeout)
	_ = ws.SetReadDeadline(deadline)
	var frame string
	if err := websocket.Message.Receive(ws, &frame); err != nil {
		ws.Close()
		return nil, fmt.Errorf("engine.io open: %v", err)
	}
	if !strings.HasPrefix(frame, "0") {
		ws.Close()
		return nil, fmt.Errorf("engine.io open: unexpected frame %.60q", frame)
	}
	var open eioOpen
	if err := json.Unmarshal([]byte(frame[1:]), &open); err != nil {
		ws.Close()
		return nil, fmt.Errorf("engine.io open: %v", err)
	}
	c.idle = time.Duration(open.PingInterval+open.PingTimeout) * time.Millisecond
	if c.idle <= 0 {
		c.idle = 45 * time.Second
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := c.send("40" + string(auth)); err != nil {
		ws.Close()
		return nil, err
	}
	for {
		if err := websocket.Message.Receive(ws, &frame); err != nil {
			ws.Close()
			return nil, fmt.Errorf("socket.io connect: %v", err)
		}
		switch {
		case frame == "2":
			_ = c.send("3")
			continue
		case strings.HasPrefix(frame, "40"):
		case strings.HasPrefix(frame, "44"):
			ws.Close()
			var e struct{ Message string }
			_ = json.Unmarshal([]byte(frame[2:]), &e)
			if strings.Contains(e.Message, "unauthorized") {
				return nil, fmt.Errorf("%w: %s", errUnauthorized, e.Message)
			}
			return nil, fmt.Errorf("connect error: %s", e.Message)
		default:
			ws.Close()
			return nil, fmt.Errorf("socket.io connect: unexpected frame %.60q", frame)
		}
		break
	}
	go c.readLoop()
	return c, nil
}

func (c *sioConn) send(frame string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return websocket.Message.Send(c.ws, frame)
}

func (c *sioConn) close(err error) {
	c.once.Do(func() {
		c.closeErr = err
		close(c.closed)
		c.ws.Close()
	})
}

func (c *sioConn) readLoop() {
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(c.idle))
		var frame string
		if err := websocket.Message.Receive(c.ws, &frame); err != nil {
			c.close(err)
			return
		}
		switch {
		case frame == "2":
			if err := c.send("3"); err != nil {
				c.close(err)
				return
			}
		case frame == "1":
			c.close(errors.New("engine.io close"))
			return
		case strings.HasPrefix(frame, "4"):
			c.packet(frame[1:])
		}
	}
}

// packet handles one Socket.IO packet: type digit, optional ack id, JSON array.
func (c *sioConn) packet(p string) {
	if p == "" {
		return
	}
	kind, rest := p[0], p[1:]
	switch kind {
	case '1':
		c.close(errors.New("io server disconnect"))
	case '2', '3':
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		id, hasID := -1, i > 0
		if hasID {
			id, _ = strconv.Atoi(rest[:i])
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(rest[i:]), &args); err != nil {
			return
		}
		if kind == '3' {
			c.mu.Lock()
			ch := c.acks[id]
			delete(c.acks, id)
			c.mu.Unlock()
			if ch != nil {
				var v json.RawMessage
				if len(args) > 0 {
					v = args[0]
				}
				ch <- v
			}
			return
		}
		if len(args) == 0 {
			return
		}
		var name string
		if json.Unmarshal(args[0], &name) != nil {
			return
		}
		var arg json.RawMessage
		if len(args) > 1 {
			arg = args[1]
		}
		var ack func(any)
		if hasID {
			ack = func(v any) {
				b, err := json.Marshal([]any{v})
				if err != nil {
					return
				}
				_ = c.send("43" + strconv.Itoa(id) + string(b))
			}
		}
		go c.onEvent(name, arg, ack)
	}
}

// emit sends an event and waits for its ack.
func (c *sioConn) emit(name string, arg any, timeout time.Duration) (json.RawMessage, error) {
	b, err := json.Marshal([]any{name, arg})
	if err != nil {
		return nil, err
	}
	ch := make(chan json.RawMessage, 1)
	c.mu.Lock()
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	forget := func() { c.mu.Lock(); delete(c.acks, id); c.mu.Unlock() }
	if err := c.send("42" + strconv.Itoa(id) + string(b)); err != nil {
		forget()
		c.close(err)
		return nil, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, nil
	case <-t.C:
		forget()
		return nil, fmt.Errorf("%s: no ack within %v", name, timeout)
	case <-c.closed:
		forget()
		return nil, fmt.Errorf("%s: connection closed", name)
	}
}

func (c *sioConn) disconnect() {
	_ = c.send("41")
	c.close(errors.New("client disconnect"))
}
