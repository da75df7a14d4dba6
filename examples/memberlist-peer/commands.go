package main

// The commands this peer offers the coordinator. Nothing here runs programs
// or reaches beyond the peer.

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

var jsonFlag = argSpec{Name: "json", Type: "boolean", Flag: true, Description: "print machine-readable JSON"}

func (p *peer) commands() []command {
	return []command{
		{commandSpec{Name: "status", Group: "general", Summary: "show this peer: name, address, state, incarnation, profile", Args: []argSpec{jsonFlag}}, p.cmdStatus},
		{commandSpec{Name: "members", Group: "membership", Summary: "list the live members memberlist knows; --all adds dead and left ones", Args: []argSpec{jsonFlag,
			{Name: "all", Type: "boolean", Flag: true, Description: "include dead and left members"}}}, p.cmdMembers},
		{commandSpec{Name: "join", Group: "membership", Summary: "join a group through host:port seeds, or the bootstrap service when none are given", Args: []argSpec{
			{Name: "seeds", Type: "string", Repeatable: true, Description: "host:port of a member"}}}, p.cmdJoin},
		{commandSpec{Name: "leave", Group: "membership", Summary: "leave the group gracefully (memberlist cannot join again afterwards: restart the peer)", Args: []argSpec{}}, p.cmdLeave},
		{commandSpec{Name: "send", Group: "chat", Summary: "send a message to every member", Args: []argSpec{
			{Name: "text", Type: "string", Rest: true, Required: true, Description: "the message"}}}, p.cmdSend},
		{commandSpec{Name: "messages", Group: "chat", Summary: "list delivered messages, in delivery order", Args: []argSpec{jsonFlag,
			{Name: "last", Type: "integer", Flag: true, Description: "only the last N"}}}, p.cmdMessages},
	}
}

func (p *peer) selfEntry() tableEntry {
	return p.table.read()[p.name]
}

func (p *peer) cmdStatus(ctx context.Context, args map[string]any) (any, string, error) {
	self := p.selfEntry()
	ids, _, _ := p.chat.snapshot()
	r := map[string]any{"name": p.name, "address": p.address, "state": stateName(self.state), "incarnation": self.incarnation,
		"profile": p.profile, "members": p.ml.NumMembers(), "messages": len(ids), "memberlist": memberlistVersion}
	text := fmt.Sprintf("name: %s\naddress: %s\nstate: %s\nincarnation: %d\nprofile: %s\nmembers: %d\nmessages: %d",
		p.name, p.address, r["state"], self.incarnation, p.profile, r["members"], len(ids))
	return r, text, nil
}

func (p *peer) cmdMembers(ctx context.Context, args map[string]any) (any, string, error) {
	all, _ := args["all"].(bool)
	rows := []map[string]any{}
	live := 0
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-22s %-8s %s\n", "NAME", "ADDRESS", "STATE", "INCARNATION")
	for _, e := range p.observer.view() {
		isLive := e.state == memberlist.StateAlive || e.state == memberlist.StateSuspect
		if isLive {
			live++
		}
		if !isLive && !all {
			continue
		}
		rows = append(rows, map[string]any{"name": e.name, "address": e.address, "state": stateName(e.state), "incarnation": e.incarnation})
		fmt.Fprintf(&b, "%-20s %-22s %-8s %d\n", e.name, e.address, stateName(e.state), e.incarnation)
	}
	fmt.Fprintf(&b, "%d live", live)
	return map[string]any{"self": p.name, "count": live, "members": rows}, b.String(), nil
}

func parseSeed(word string) error {
	host, port, err := net.SplitHostPort(word)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return badArgs("join: %q is not host:port", word)
	}
	return nil
}

func (p *peer) cmdJoin(ctx context.Context, args map[string]any) (any, string, error) {
	seeds, _ := args["seeds"].([]string)
	for _, s := range seeds {
		if err := parseSeed(s); err != nil {
			return nil, "", err
		}
	}
	if p.left.Load() {
		return nil, "", failed("join: this peer has left, and memberlist cannot join again after Leave; restart the peer")
	}
	if len(seeds) == 0 {
		if p.boot.url == "" {
			return nil, "", badArgs("join: no seeds given and no --bootstrap service")
		}
		res, err := p.bootstrapJoin()
		if err != nil {
			return nil, "", failed("join: %v", err)
		}
		return res, "", nil
	}
	via, err := p.joinSeeds(seeds)
	if err != nil {
		return nil, "", failed("join: %v", err)
	}
	return map[string]any{"via": via, "seeds": len(seeds), "members": p.ml.NumMembers()}, "joined via " + via, nil
}

func (p *peer) cmdLeave(ctx context.Context, args map[string]any) (any, string, error) {
	if err := p.leave(); err != nil {
		return nil, "", failed("leave: %v", err)
	}
	return map[string]any{"left": true}, "left the group", nil
}

func (p *peer) cmdSend(ctx context.Context, args map[string]any) (any, string, error) {
	if p.left.Load() {
		return nil, "", failed("send: this peer has left the group")
	}
	m, err := p.chat.send(args["text"].(string))
	if err != nil {
		return nil, "", failed("send: %v", err)
	}
	return map[string]any{"id": m.ID, "seq": m.Seq, "sentAt": m.SentAt, "deps": []string{}}, "sent " + m.ID, nil
}

func (p *peer) cmdMessages(ctx context.Context, args map[string]any) (any, string, error) {
	p.chat.mu.Lock()
	list := append([]delivered(nil), p.chat.order...)
	dups, held := p.chat.duplicates, p.chat.heldCount
	p.chat.mu.Unlock()
	count := len(list)
	if last, ok := args["last"].(float64); ok && int(last) >= 0 && int(last) < len(list) {
		list = list[len(list)-int(last):]
	}
	rows := []map[string]any{}
	var b strings.Builder
	for _, d := range list {
		rows = append(rows, map[string]any{"id": d.ID, "sender": d.Sender, "text": d.Text, "deliveredAt": d.DeliveredAt})
		fmt.Fprintf(&b, "%s %s: %s\n", time.UnixMilli(d.DeliveredAt).Format("15:04:05.000"), d.Sender, d.Text)
	}
	fmt.Fprintf(&b, "%d delivered, %d duplicates dropped, %d held", count, dups, held)
	return map[string]any{"count": count, "duplicates": dups, "held": held, "messages": rows}, b.String(), nil
}
