package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// AskTimeout is how long a question to the cluster waits for the nodes'
// answers by default; a node that has not answered by then is left out
// and named in the answer.
const AskTimeout = 3 * time.Second

// Answer is what one node said to a question the cluster was asked.
type Answer struct {
	Node  string
	Reply json.RawMessage
	// Err is the node's error, if it failed.
	Err string
}

// Answers is what the cluster said: every answer that came in time,
// and the nodes that did not answer.
type Answers struct {
	Answers []Answer
	// Missing are the live nodes (as the registry lists them) whose
	// answer did not come in time.
	Missing []string
}

// OpHandler answers one kind of question on this node.
type OpHandler func(ctx context.Context, args json.RawMessage) (any, error)

// cluster asks every node a question over the broker's control messages
// and gathers the answers; it answers the other nodes' questions too.
type cluster struct {
	c   *Core
	seq atomic.Uint64

	mu      sync.Mutex
	calls   map[uint64]*call
	handles map[string]OpHandler
}

// call is one question waiting for its answers.
type call struct {
	answers chan Answer
}

// controlMessage is a question or an answer on the control channel.
type controlMessage struct {
	// ID numbers the question on the node that asked.
	ID uint64 `json:"id"`
	// From is the node that sent this message.
	From string `json:"from"`
	// Op is the question's kind; empty in an answer.
	Op   string          `json:"op,omitempty"`
	Args json.RawMessage `json:"args,omitempty"`
	// Reply and Err are an answer's.
	Reply json.RawMessage `json:"reply,omitempty"`
	Err   string          `json:"err,omitempty"`
}

func newCluster(c *Core) *cluster {
	return &cluster{c: c, calls: map[uint64]*call{}, handles: map[string]OpHandler{}}
}

// HandleOp makes this node answer questions of kind op with h. Call it
// before the node takes connections.
func (c *Core) HandleOp(op string, h OpHandler) {
	c.cluster.mu.Lock()
	defer c.cluster.mu.Unlock()
	c.cluster.handles[op] = h
}

// Ask puts a question to every live node, this one included, and
// gathers the answers until every node has answered or timeout has
// passed (Options.AskTimeout when 0): then the answer is partial, naming
// the nodes that said nothing, rather than late.
func (c *Core) Ask(ctx context.Context, op string, args any, timeout time.Duration) (Answers, error) {
	if timeout <= 0 {
		timeout = c.opts.AskTimeout
	}
	if timeout <= 0 {
		timeout = AskTimeout
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return Answers{}, fmt.Errorf("core: encoding %s: %w", op, err)
	}
	nodes := c.liveNodes(ctx)
	id, cl := c.cluster.open(len(nodes) + 4)
	defer c.cluster.finish(id)
	msg, _ := json.Marshal(controlMessage{ID: id, From: c.id, Op: op, Args: raw})
	if err := c.broker.Control(ctx, "", msg); err != nil {
		return Answers{}, c.brokerFailed("control", "asking the cluster", err)
	}
	a := gather(ctx, cl, nodes, timeout)
	if len(a.Missing) > 0 {
		c.metrics.PartialAnswers.Inc()
	}
	return a, nil
}

// ErrNoAnswer is AskNode's error when the node did not answer in time.
var ErrNoAnswer = errors.New("no answer from the node")

// AskNode puts a question to the node named node alone and waits at most
// timeout for its answer: the reply, or the node's error.
func (c *Core) AskNode(ctx context.Context, node, op string, args any, timeout time.Duration) (json.RawMessage, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("core: encoding %s: %w", op, err)
	}
	id, cl := c.cluster.open(1)
	defer c.cluster.finish(id)
	msg, _ := json.Marshal(controlMessage{ID: id, From: c.id, Op: op, Args: raw})
	if err := c.broker.Control(ctx, node, msg); errors.Is(err, broker.ErrNoSuchNode) {
		return nil, fmt.Errorf("%w: node %s is not there", ErrNoAnswer, node)
	} else if err != nil {
		return nil, c.brokerFailed("control", "asking a node", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-cl.answers:
		if a.Err != "" {
			return nil, fmt.Errorf("node %s: %s", node, a.Err)
		}
		return a.Reply, nil
	case <-timer.C:
		return nil, fmt.Errorf("%w: node %s, within %s", ErrNoAnswer, node, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// open registers a question, numbered, for up to size answers.
func (cs *cluster) open(size int) (uint64, *call) {
	id := cs.seq.Add(1)
	cl := &call{answers: make(chan Answer, size)}
	cs.mu.Lock()
	cs.calls[id] = cl
	cs.mu.Unlock()
	return id, cl
}

// finish forgets question id: later answers are dropped.
func (cs *cluster) finish(id uint64) {
	cs.mu.Lock()
	delete(cs.calls, id)
	cs.mu.Unlock()
}

// Tell sends a message of kind op to every other node; none answers.
// It is for work each node does on its own connections, such as an
// emit to every socket of a namespace.
func (c *Core) Tell(ctx context.Context, op string, args any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("core: encoding %s: %w", op, err)
	}
	msg, _ := json.Marshal(controlMessage{From: c.id, Op: op, Args: raw})
	if err := c.broker.Control(ctx, "", msg); err != nil {
		return c.brokerFailed("control", "telling the cluster", err)
	}
	return nil
}

// gather collects answers from nodes until each has answered, timeout
// passes or ctx ends. Answers from nodes the registry did not list yet
// (just started) are kept too.
func gather(ctx context.Context, cl *call, nodes []string, timeout time.Duration) Answers {
	waiting := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		waiting[n] = true
	}
	var out Answers
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(waiting) > 0 {
		select {
		case a := <-cl.answers:
			delete(waiting, a.Node)
			out.Answers = append(out.Answers, a)
		case <-timer.C:
			return missing(out, waiting)
		case <-ctx.Done():
			return missing(out, waiting)
		}
	}
	return out
}

func missing(out Answers, waiting map[string]bool) Answers {
	for n := range waiting {
		out.Missing = append(out.Missing, n)
	}
	return out
}

// handle takes a control message: an answer to one of this node's
// questions, or a question, answered on its own goroutine so a slow
// handler holds up no other message.
func (cs *cluster) handle(data []byte) {
	var m controlMessage
	if err := json.Unmarshal(data, &m); err != nil {
		cs.c.log.Warn("a control message that does not decode", "err", err)
		return
	}
	switch {
	case m.Op == "":
		cs.answer(m)
	case m.ID == 0 && m.From == cs.c.id:
		// This node's own Tell: it did its part before telling.
	default:
		go cs.serve(m)
	}
}

func (cs *cluster) answer(m controlMessage) {
	cs.mu.Lock()
	cl := cs.calls[m.ID]
	cs.mu.Unlock()
	if cl == nil {
		return // came too late
	}
	select {
	case cl.answers <- Answer{Node: m.From, Reply: m.Reply, Err: m.Err}:
	default:
	}
}

func (cs *cluster) serve(m controlMessage) {
	cs.mu.Lock()
	h := cs.handles[m.Op]
	cs.mu.Unlock()
	reply := controlMessage{ID: m.ID, From: cs.c.id}
	ctx, cancel := context.WithTimeout(context.Background(), AskTimeout)
	defer cancel()
	if m.ID == 0 { // a Tell: nobody waits for the answer
		if h != nil {
			if _, err := h(ctx, m.Args); err != nil {
				cs.c.log.Warn("carrying out a node's message", "node", m.From, "op", m.Op, "err", err)
			}
		}
		return
	}
	if h == nil {
		reply.Err = fmt.Sprintf("this node does not know %q", m.Op)
	} else if v, err := h(ctx, m.Args); err != nil {
		reply.Err = err.Error()
	} else if reply.Reply, err = json.Marshal(v); err != nil {
		reply.Err = err.Error()
	}
	data, _ := json.Marshal(reply)
	if err := cs.c.broker.Control(ctx, m.From, data); err != nil && !errors.Is(err, context.Canceled) {
		cs.c.log.Warn("answering a node", "node", m.From, "op", m.Op, "err", err)
	}
}
