package broker

import (
	"hash/maphash"
	"runtime"

	"github.com/heraldhq/herald/internal/protocol/record"
	"github.com/nats-io/nats.go"
)

// natsQueueLen is how many messages one dispatcher queue holds. nats.go
// drops what does not fit (it cannot block its reader); a dropped
// publication is fetched back from the stream when the next one shows
// the gap.
const natsQueueLen = 1 << 14

// natsForgetSubject marks a message the broker queues itself, behind
// a channel's last ones, when it unsubscribes: no server subject has a
// NUL in it.
const natsForgetSubject = "\x00forget"

// natsCatchUpSubject marks the message that asks a queue to catch up
// after a reconnection.
const natsCatchUpSubject = "\x00catch-up"

// natsDispatcher hands what the subscriptions receive to the handler.
// Every subscription feeds one of a few queues, chosen by its subject,
// each drained by one goroutine: a subject's messages keep their order,
// and a node with many channels runs a few goroutines, not one each.
type natsDispatcher struct {
	b      *NATSBroker
	seed   maphash.Seed
	queues []chan *nats.Msg
}

func newNATSDispatcher(b *NATSBroker) *natsDispatcher {
	d := &natsDispatcher{b: b, seed: maphash.MakeSeed(), queues: make([]chan *nats.Msg, max(2, runtime.GOMAXPROCS(0)))}
	for i := range d.queues {
		d.queues[i] = make(chan *nats.Msg, natsQueueLen)
		go d.run(d.queues[i])
	}
	return d
}

// queueFor picks subject's queue. This node's two control subjects share
// the first, so control messages keep the order the server got them in.
func (d *natsDispatcher) queueFor(subject string) chan *nats.Msg {
	if kind, _ := d.b.subj.kind(subject); kind == 'n' || kind == 'a' {
		return d.queues[0]
	}
	return d.queues[maphash.String(d.seed, subject)%uint64(len(d.queues))]
}

func (d *natsDispatcher) run(q chan *nats.Msg) {
	// this queue's channels, delivered in order
	o := newInOrder(d.b.History, func(p *record.Publication) { d.b.handler.HandlePublication(p) })
	for {
		select {
		case <-d.b.done:
			return
		case m := <-q:
			d.handle(m, o)
		}
	}
}

// catchUp queues, behind what each queue holds, a look at its channels'
// streams for what was published while NATS was away: nats.go sent the
// subscriptions again before it reports the reconnection. A full queue
// gets it from a goroutine of its own.
func (d *natsDispatcher) catchUp() {
	for _, q := range d.queues {
		m := &nats.Msg{Subject: natsCatchUpSubject}
		select {
		case q <- m:
		default:
			go func() {
				select {
				case q <- m:
				case <-d.b.done:
				}
			}()
		}
	}
}

// forget queues the end of ch's delivery behind what is queued for it,
// so that a later subscription starts without a gap check against the
// old one (which would replay what came between). A full queue gets it
// from a goroutine of its own, so that an Unsubscribe made by a handler
// on this very queue cannot wait on itself; arriving late, it only
// spares the new subscription one gap check.
func (d *natsDispatcher) forget(subject, ch string) {
	q, m := d.queueFor(subject), &nats.Msg{Subject: natsForgetSubject, Data: []byte(ch)}
	select {
	case q <- m:
		return
	default:
	}
	go func() {
		select {
		case q <- m:
		case <-d.b.done:
		}
	}()
}

func (d *natsDispatcher) handle(m *nats.Msg, o *inOrder) {
	switch m.Subject {
	case natsForgetSubject:
		o.forget(string(m.Data))
		return
	case natsCatchUpSubject:
		_ = o.catchUpAll(unguarded{}) // what it could not read, the next publication will show
		return
	}
	h := d.b.handler
	kind, token := d.b.subj.kind(m.Subject)
	switch kind {
	case 'c':
		d.channelMessage(m, token, o)
	case 'u':
		if p, err := decodeNATSPush(m.Data); err == nil {
			h.HandlePush(p)
		}
	case 'n', 'a':
		h.HandleControl(m.Data)
	}
}

func (d *natsDispatcher) channelMessage(m *nats.Msg, token string, o *inOrder) {
	switch m.Header.Get(natsHeaderKind) {
	case "join", "leave":
		ch, err := natsName(token)
		info, err2 := decodeNATSClient(m.Data)
		if err != nil || err2 != nil {
			return
		}
		if m.Header.Get(natsHeaderKind) == "join" {
			d.b.handler.HandleJoin(ch, info)
		} else {
			d.b.handler.HandleLeave(ch, info)
		}
		return
	}
	if m.Header.Get(natsHeaderRemoved) != "" {
		return // RemoveHistory's marker: no publication
	}
	pub, err := record.Decode(m.Data)
	if err != nil {
		return
	}
	o.deliver(pub)
}
