package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/hub"
)

// In a cluster, rooms are channels, which the broker carries to every
// node. What is not a channel goes to the other nodes as a message each
// carries out on its own sockets: an emit to every socket of a
// namespace, an emit to a socket by its id, and the cluster operations
// below (fetch, join, leave, disconnect), which wait for every node's
// answer for at most cluster.ask_timeout and then answer with what came.

const (
	opEmit       = "sio.emit"
	opFetch      = "sio.fetch_sockets"
	opJoin       = "sio.sockets_join"
	opLeave      = "sio.sockets_leave"
	opDisconnect = "sio.disconnect_sockets"
)

// socketIDLen is the length of a socket id (randomID): a room of that
// shape that is not a socket here may be a socket on another node, and
// is sent there too.
const socketIDLen = 20

func mayBeSocketID(room string) bool {
	if len(room) != socketIDLen {
		return false
	}
	return !strings.ContainsFunc(room, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// remoteEmit is an emit for sockets on the other nodes: every socket of
// the namespace (All) or those named, but for those in Except, and those
// in Rooms (they get the rooms' copy).
type remoteEmit struct {
	Nsp      string   `json:"nsp"`
	All      bool     `json:"all,omitempty"`
	Sockets  []string `json:"sockets,omitempty"`
	Rooms    []string `json:"rooms,omitempty"`
	Except   []string `json:"except,omitempty"`
	Volatile bool     `json:"volatile,omitempty"`
	Text     []byte   `json:"text"`
	Bins     [][]byte `json:"bins,omitempty"`
}

// selector names sockets of a namespace: those in any of Rooms (all
// when none; a socket's id is a room too), but for those in Except.
type selector struct {
	Nsp    string   `json:"nsp"`
	Rooms  []string `json:"rooms,omitempty"`
	Except []string `json:"except,omitempty"`
}

// clusterOp is a selector and, for join and leave, the rooms.
type clusterOp struct {
	selector
	Target []string `json:"target,omitempty"`
	Close  bool     `json:"close,omitempty"`
}

// RemoteSocket is a socket as a cluster operation finds it, on whichever
// node it is connected.
type RemoteSocket struct {
	ID        string   `json:"id"`
	Namespace string   `json:"nsp"`
	User      string   `json:"user,omitempty"`
	Rooms     []string `json:"rooms"`
	// Node is the id of the node holding it.
	Node string `json:"node"`
}

// handleClusterOps makes this node carry out the other nodes' Socket.IO
// messages.
func (srv *Server) handleClusterOps() {
	c := srv.core
	c.HandleOp(opEmit, func(_ context.Context, raw json.RawMessage) (any, error) {
		var e remoteEmit
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		srv.deliverRemote(e)
		return nil, nil
	})
	c.HandleOp(opHandover, srv.handOver)
	c.HandleOp(opFetch, srv.serveOp(func(s *Socket, _ clusterOp) any { return s.remote() }))
	c.HandleOp(opJoin, srv.serveOp(func(s *Socket, op clusterOp) any { return s.Join(op.Target...) == nil }))
	c.HandleOp(opLeave, srv.serveOp(func(s *Socket, op clusterOp) any {
		var errs []error
		for _, room := range op.Target {
			errs = append(errs, s.Leave(room))
		}
		return errors.Join(errs...) == nil
	}))
	c.HandleOp(opDisconnect, srv.serveOp(func(s *Socket, op clusterOp) any {
		if op.Close {
			s.Close()
		} else {
			s.Disconnect()
		}
		return true
	}))
}

// serveOp answers an operation with f's result for each selected socket.
func (srv *Server) serveOp(f func(*Socket, clusterOp) any) core.OpHandler {
	return func(_ context.Context, raw json.RawMessage) (any, error) {
		var op clusterOp
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, err
		}
		var out []any
		for _, s := range srv.selectLocal(op.selector) {
			out = append(out, f(s, op))
		}
		return out, nil
	}
}

// selectLocal returns this node's sockets sel names.
func (srv *Server) selectLocal(sel selector) []*Socket {
	n := srv.existing(sel.Nsp)
	if n == nil {
		return nil
	}
	var found []*Socket
	if len(sel.Rooms) == 0 {
		found = n.allSockets()
	}
	for _, room := range sel.Rooms {
		if s := n.socket(room); s != nil {
			found = append(found, s)
		}
		found = append(found, n.roomSockets(room)...)
	}
	slices.SortFunc(found, func(a, b *Socket) int { return strings.Compare(a.ID(), b.ID()) })
	found = slices.Compact(found)
	return slices.DeleteFunc(found, func(s *Socket) bool { return s.excludedBy(sel.Except) })
}

func (s *Socket) remote() RemoteSocket {
	return RemoteSocket{ID: s.ID(), Namespace: s.nsp.name, User: s.client.User(), Rooms: s.Rooms(), Node: s.srv.core.ID()}
}

// deliverRemote carries out another node's emit on this node's sockets.
func (srv *Server) deliverRemote(e remoteEmit) {
	n := srv.existing(e.Nsp)
	if n == nil {
		return
	}
	var sockets []*Socket
	if e.All {
		sockets = n.allSockets()
	}
	for _, id := range e.Sockets {
		if s := n.socket(id); s != nil && !s.excludedBy(e.Rooms) {
			sockets = append(sockets, s)
		}
	}
	srv.sendEncoded(sockets, e.Except, newEncodedEvent(e.Text, e.Bins, e.Volatile))
}

// sendEncoded queues ev for sockets but those in except.
func (srv *Server) sendEncoded(sockets []*Socket, except []string, ev *encodedEvent) {
	var targets []hub.Subscriber
	for _, s := range sockets {
		if !s.excludedBy(except) {
			targets = append(targets, s.sink())
		}
	}
	srv.core.Hub().SendTo(targets, &hub.Message{Kind: hub.KindDirect, Payload: ev})
}

// ask puts op to every node and gathers what each selected socket
// answered; the error names the nodes that did not answer in time.
func (o *Operator) ask(ctx context.Context, name string, op clusterOp) ([]json.RawMessage, error) {
	op.selector = selector{Nsp: o.nsp.name, Rooms: o.rooms, Except: o.except}
	answers, err := o.nsp.srv.core.Ask(ctx, name, op, 0)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	missing := answers.Missing
	for _, a := range answers.Answers {
		var each []json.RawMessage
		if a.Err != "" || json.Unmarshal(a.Reply, &each) != nil {
			missing = append(missing, a.Node)
			continue
		}
		out = append(out, each...)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return out, fmt.Errorf("socketio: %w: %s", core.ErrPartial, strings.Join(missing, ", "))
	}
	return out, nil
}

// FetchSockets returns the sockets the operator selects (its rooms, all
// of the namespace's when none, but for its except rooms) on every node
// of the cluster. A node that does not answer within cluster.ask_timeout
// is left out: the sockets found are returned with an error that matches
// herald.ErrPartial and names it.
func (o *Operator) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	raws, err := o.ask(ctx, opFetch, clusterOp{})
	out := make([]RemoteSocket, 0, len(raws))
	for _, r := range raws {
		var s RemoteSocket
		if json.Unmarshal(r, &s) == nil {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b RemoteSocket) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// SocketsJoin makes the selected sockets, on every node, join rooms, and
// returns how many did; partial answers as for FetchSockets.
func (o *Operator) SocketsJoin(ctx context.Context, rooms ...string) (int, error) {
	return o.count(ctx, opJoin, clusterOp{Target: rooms})
}

// SocketsLeave makes the selected sockets, on every node, leave rooms,
// and returns how many did; partial answers as for FetchSockets.
func (o *Operator) SocketsLeave(ctx context.Context, rooms ...string) (int, error) {
	return o.count(ctx, opLeave, clusterOp{Target: rooms})
}

// DisconnectSockets disconnects the selected sockets on every node (with
// close, their whole connection) and returns how many; partial answers
// as for FetchSockets.
func (o *Operator) DisconnectSockets(ctx context.Context, close bool) (int, error) {
	return o.count(ctx, opDisconnect, clusterOp{Close: close})
}

func (o *Operator) count(ctx context.Context, name string, op clusterOp) (int, error) {
	raws, err := o.ask(ctx, name, op)
	n := 0
	for _, r := range raws {
		if string(r) == "true" {
			n++
		}
	}
	return n, err
}
