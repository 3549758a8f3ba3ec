package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldhq/herald/client"
)

// runClient is `herald client ws://HOST/ws [--token T] [--sub CH]...
// [--pub CH] [--header 'Name: value']...`, a wscat for herald's protocol.
// It prints publications and pushes on stdout, one line each, notices
// (connects, joins, leaves, disconnects, what a resume after a
// reconnect recovered) on stderr, and publishes each
// stdin line to the --pub channel (default: the first --sub): as JSON
// when the line is valid JSON, else as a JSON string. It reconnects by
// itself; EOF on stdin or SIGINT closes cleanly, a close code that
// forbids reconnecting ends it with an error.
func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	stderr = &lockedWriter{w: stderr} // the reading goroutine and this one both write notices
	fs := newFlags("client", stderr)
	token := fs.String("token", "", "connection token (JWT); none connects anonymously")
	pub := fs.String("pub", "", "channel stdin lines are published to (default: the first --sub)")
	var subs, headers listFlag
	fs.Var(&subs, "sub", "channel to subscribe to; repeat for more")
	fs.Var(&headers, "header", "extra handshake header 'Name: value', e.g. 'Origin: https://example.com'; repeatable")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: herald client ws://HOST/ws [--token T] [--sub CHANNEL]... [--pub CHANNEL] [--header 'Name: value']...")
		fs.PrintDefaults()
	}
	urls, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(urls) != 1 {
		return usageError("client needs exactly one URL, like ws://localhost:8080/ws (got %d)", len(urls))
	}
	header, err := parseHeaders(headers)
	if err != nil {
		return err
	}
	if *pub == "" && len(subs) > 0 {
		*pub = subs[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var final client.DisconnectError // set before Done closes, read after
	opts := printingOptions(stdout, stderr, &final)
	opts.URL, opts.Token, opts.Header, opts.Reconnect = urls[0], *token, header, true
	c, err := client.Dial(ctx, opts)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", urls[0], err)
	}
	defer c.Close()
	for _, ch := range subs {
		if err := subscribe(ctx, c, ch); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "* subscribed to %s\n", ch)
	}
	return publishLines(ctx, c, *pub, stdin, stderr, &final)
}

// publishLines publishes each line of stdin to ch until stdin ends, the
// client stops for good, or ctx ends.
func publishLines(ctx context.Context, c *client.Client, ch string, stdin io.Reader, stderr io.Writer, final *client.DisconnectError) error {
	lines, readErr := make(chan string), make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	// Reading stdin cannot be interrupted; if the client ends first, this
	// goroutine stays blocked until stdin closes (at exit, for the CLI).
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		select {
		case line := <-lines:
			publishLine(ctx, c, ch, line, stderr)
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			return nil // EOF: the deferred Close ends the connection cleanly
		case <-c.Done():
			return fmt.Errorf("disconnected for good (code %d): %s", final.Code, final.Reason)
		case <-ctx.Done():
			return nil
		}
	}
}

// publishLine sends one stdin line: as is when it is JSON, else as a string.
func publishLine(ctx context.Context, c *client.Client, ch, line string, stderr io.Writer) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	if ch == "" {
		fmt.Fprintln(stderr, "* nothing to publish to: give --pub or --sub")
		return
	}
	var data any = line
	if json.Valid([]byte(line)) {
		data = json.RawMessage(line)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Publish(ctx, ch, data); err != nil {
		fmt.Fprintf(stderr, "* publishing to %s failed: %v\n", ch, err)
	}
}

func subscribe(ctx context.Context, c *client.Client, ch string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Subscribe(ctx, ch); err != nil {
		return fmt.Errorf("subscribing to %s: %w", ch, err)
	}
	return nil
}

// printingOptions are callbacks that print what arrives. They all run on
// the client's reading goroutine, so stdout needs no lock and connects
// can be counted without one. final receives the close that ends the
// client for good.
func printingOptions(stdout, stderr io.Writer, final *client.DisconnectError) client.Options {
	connects := 0
	return client.Options{
		OnPublication: func(p client.Publication) {
			fmt.Fprintf(stdout, "[%s #%d] %s: %s\n", p.Channel, p.Offset, who(p.Info), p.Data)
		},
		OnPush: func(p client.Push) { fmt.Fprintf(stdout, "[push %s] %s\n", p.Event, p.Data) },
		OnJoin: func(ch string, ci client.ClientInfo) {
			fmt.Fprintf(stderr, "* %s joined %s\n", who(&ci), ch)
		},
		OnLeave: func(ch string, ci client.ClientInfo) {
			fmt.Fprintf(stderr, "* %s left %s\n", who(&ci), ch)
		},
		OnUnsubscribe: func(ch, reason string) { fmt.Fprintf(stderr, "* unsubscribed from %s: %s\n", ch, reason) },
		OnResume:      func(ch string, r client.Resume) { fmt.Fprintf(stderr, "* %s\n", describeResume(ch, r)) },
		OnConnect: func(ci client.ConnectInfo) {
			connects++
			verb := "connected"
			if connects > 1 {
				verb = "reconnected"
			}
			user := ci.User
			if user == "" {
				user = "anonymous"
			}
			fmt.Fprintf(stderr, "* %s to node %s (herald %s) as %s, client %s\n", verb, ci.Node, ci.Version, user, ci.Client)
		},
		OnDisconnect: func(code int, reason string, again bool) {
			next := "reconnecting"
			if !again {
				next = "not reconnecting"
				*final = client.DisconnectError{Code: code, Reason: reason}
			}
			fmt.Fprintf(stderr, "* disconnected (code %d): %s; %s\n", code, reason, next)
		},
	}
}

// describeResume says how ch went on after a reconnect, or after a gap
// in its offsets.
func describeResume(ch string, r client.Resume) string {
	switch {
	case r.Gap:
		return fmt.Sprintf("gap in %s: %s", ch, r.Reason)
	case r.Recovered:
		return fmt.Sprintf("resumed %s: recovered, %d replayed", ch, r.Replayed)
	default:
		return fmt.Sprintf("resumed %s: NOT recovered (%s)", ch, r.Reason)
	}
}

// who names a publisher or subscriber: its user, its connection id when
// anonymous, "server" when the server published.
func who(ci *client.ClientInfo) string {
	switch {
	case ci == nil:
		return "server"
	case ci.User != "":
		return ci.User
	default:
		return ci.Client
	}
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (the flag package stops at the first positional
// one), and returns the positional arguments. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// parseHeaders turns 'Name: value' strings into a header.
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if name = strings.TrimSpace(name); !ok || name == "" {
			return nil, usageError("--header %q: want 'Name: value'", l)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, v)
	return nil
}

// lockedWriter serializes writes from several goroutines, so that lines
// do not interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
