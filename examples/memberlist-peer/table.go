package main

// Reading memberlist's own member table. memberlist 0.2.2 (Debian's) reports
// joins and departures through its EventDelegate, but not suspicion, not
// incarnations, and not whether a departure was a death or a graceful leave
// (the Node it hands over never has its State set). The table it keeps has
// all three, so the peer reads it, under memberlist's own lock, through a
// mirror of the unexported nodeState whose layout is checked at start.

import (
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/hashicorp/memberlist"
)

// nodeStateMirror has the layout of memberlist's unexported nodeState.
type nodeStateMirror struct {
	memberlist.Node
	Incarnation uint32
	State       memberlist.NodeStateType
	StateChange time.Time
}

type tableEntry struct {
	name, address string
	state         memberlist.NodeStateType
	incarnation   uint32
}

type table struct {
	lock  *sync.RWMutex
	nodes *map[string]*nodeStateMirror
}

// openTable finds memberlist's node map and lock, refusing a memberlist whose
// layout differs from the mirror (another version than the one built against).
func openTable(m *memberlist.Memberlist) (*table, error) {
	v := reflect.ValueOf(m).Elem()
	lockField := v.FieldByName("nodeLock")
	mapField := v.FieldByName("nodeMap")
	if !lockField.IsValid() || lockField.Type() != reflect.TypeOf(sync.RWMutex{}) {
		return nil, fmt.Errorf("memberlist.Memberlist has no nodeLock sync.RWMutex")
	}
	if !mapField.IsValid() || mapField.Kind() != reflect.Map || mapField.Type().Elem().Kind() != reflect.Ptr {
		return nil, fmt.Errorf("memberlist.Memberlist has no nodeMap map[string]*nodeState")
	}
	theirs := mapField.Type().Elem().Elem()
	ours := reflect.TypeOf(nodeStateMirror{})
	if theirs.Size() != ours.Size() || theirs.NumField() != ours.NumField() {
		return nil, fmt.Errorf("memberlist's nodeState (%d bytes, %d fields) differs from the mirror (%d bytes, %d fields)", theirs.Size(), theirs.NumField(), ours.Size(), ours.NumField())
	}
	for i := 0; i < ours.NumField(); i++ {
		a, b := theirs.Field(i), ours.Field(i)
		if a.Name != b.Name || a.Offset != b.Offset || a.Type != b.Type {
			return nil, fmt.Errorf("memberlist's nodeState field %d is %s %v at %d, the mirror's %s %v at %d", i, a.Name, a.Type, a.Offset, b.Name, b.Type, b.Offset)
		}
	}
	return &table{
		lock:  (*sync.RWMutex)(unsafe.Pointer(lockField.UnsafeAddr())),
		nodes: (*map[string]*nodeStateMirror)(unsafe.Pointer(mapField.UnsafeAddr())),
	}, nil
}

func (t *table) read() map[string]tableEntry {
	t.lock.RLock()
	defer t.lock.RUnlock()
	out := make(map[string]tableEntry, len(*t.nodes))
	for name, n := range *t.nodes {
		out[name] = tableEntry{name: name, address: n.Node.Address(), state: n.State, incarnation: n.Incarnation}
	}
	return out
}

// stateOf reads the state of a node memberlist handed to a delegate; the
// delegate runs under memberlist's lock, and the Node is a nodeState's first field.
func stateOf(n *memberlist.Node) (memberlist.NodeStateType, uint32) {
	s := (*nodeStateMirror)(unsafe.Pointer(n))
	return s.State, s.Incarnation
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	}
	return fmt.Sprintf("state-%d", int(s))
}
