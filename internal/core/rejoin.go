package core

// CatchUp resumes ch for a client that stayed subscribed to it while its
// transport was away (a Socket.IO socket kept for recovery, whose session
// let ch's publications go by meanwhile): from now on fan-out's messages
// for ch are held, the stream is read after since, and Start replays the
// missed publications and releases the held ones, as for a resuming
// Subscribe. The session must be a Replayer. It fails (404) when the
// client is not on ch, as the caller's idea of its channels is stale.
func (c *Core) CatchUp(cl *Client, ch string, since Since) (Subscription, *Error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch {
	case cl.Closed():
		return Subscription{}, closedError()
	case !cl.Subscribed(ch):
		return Subscription{}, refuse(404, nil, "not subscribed to %q", ch)
	}
	hold := cl.hold(ch) // before the read: what fan-out brings after it waits for the replay
	r, replay := c.resume(cl, ch, since)
	c.metrics.recovery(r)
	return Subscription{Position: r.Position, Resume: &r, cl: cl, ch: ch, hold: hold, replay: replay}, nil
}
