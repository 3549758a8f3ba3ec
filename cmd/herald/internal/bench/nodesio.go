package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The Node reference server is bench/nodesio: server.js on the npm
// socket.io version its package-lock.json pins. The bench installs it
// with `npm ci` into a copy of that folder under the system's temporary
// directory, named after a hash of its three files, so that later runs
// reuse the install (and a changed lock file gets a fresh one), then
// runs `node server.js --port P` there with Node's default flags.

// nodeFiles are what is copied from bench/nodesio.
var nodeFiles = []string{"server.js", "package.json", "package-lock.json"}

// errNoNode says node or npm is not installed.
var errNoNode = errors.New("node and npm are needed for --target node")

// nodeRef is the reference server, installed and ready to start.
type nodeRef struct {
	node, dir string // the node binary; the installed copy of bench/nodesio
	versions  NodeVersions
}

// NodeVersions are the reference server's versions.
type NodeVersions struct {
	Node     string `json:"node"`
	SocketIO string `json:"socket.io"`
	EngineIO string `json:"engine.io"`
	WS       string `json:"ws"`
}

// findNodeDir returns bench/nodesio: given, or found by walking up from
// the working directory, then from the executable's directory.
func findNodeDir(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(filepath.Join(given, "server.js")); err != nil {
			return "", usagef("--node-dir %s: %v", given, err)
		}
		return given, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for range 32 { // a path has fewer levels than that
			cand := filepath.Join(dir, "bench", "nodesio")
			if _, err := os.Stat(filepath.Join(cand, "server.js")); err == nil {
				return cand, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", usagef("cannot find bench/nodesio/server.js above the working directory: run from the herald repository or give --node-dir")
}

// prepareNode checks for node and npm and installs the reference server
// from src (bench/nodesio), or reuses an earlier install of the same
// files.
func prepareNode(ctx context.Context, src string, log io.Writer) (*nodeRef, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoNode, err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoNode, err)
	}
	h := sha256.New()
	contents := map[string][]byte{}
	for _, f := range nodeFiles {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return nil, fmt.Errorf("the Node reference server: %w", err)
		}
		contents[f] = b
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	dir := filepath.Join(os.TempDir(), "herald-bench-nodesio-"+hex.EncodeToString(h.Sum(nil))[:16])
	marker := filepath.Join(dir, ".installed")
	if _, err := os.Stat(marker); err != nil {
		if err := installNode(ctx, npm, dir, contents, log); err != nil {
			return nil, err
		}
	}
	ref := &nodeRef{node: node, dir: dir}
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	ref.versions = NodeVersions{Node: strings.TrimSpace(string(out)), SocketIO: npmVersion(dir, "socket.io"),
		EngineIO: npmVersion(dir, "engine.io"), WS: npmVersion(dir, "ws")}
	return ref, nil
}

// installNode runs `npm ci` in a fresh copy of the files and moves it to
// dir once complete, so that an interrupted install is never reused.
func installNode(ctx context.Context, npm, dir string, contents map[string][]byte, log io.Writer) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "herald-bench-nodesio-install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone after the rename
	for f, b := range contents {
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "bench: installing the Node reference server (npm ci) in %s\n", dir)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: 16 << 10}
	cmd.Stderr = cmd.Stdout
	setChildAttrs(cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci for the Node reference server: %v\n%s", err, bytes.TrimSpace(out.Bytes()))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".installed"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another bench installed the same files meanwhile: use that.
		if _, serr := os.Stat(filepath.Join(dir, ".installed")); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

// npmVersion reads the version of an installed package.
func npmVersion(dir, pkg string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		return "unknown"
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil || p.Version == "" {
		return "unknown"
	}
	return p.Version
}

// describe says what the reference server is and how it runs.
func (n *nodeRef) describe(recovery bool) string {
	rec := "off (socket.io's default)"
	if recovery {
		rec = "on (connectionStateRecovery: {}; not socket.io's default)"
	}
	return fmt.Sprintf("node %s (default flags), socket.io %s (engine.io %s, ws %s), connection state recovery %s",
		n.versions.Node, n.versions.SocketIO, n.versions.EngineIO, n.versions.WS, rec)
}

// start runs the reference server on a free loopback port and waits
// until /healthz answers.
func (n *nodeRef) start(ctx context.Context, recovery bool) (*target, error) {
	t, port, logf, err := newChildTarget("herald-bench-node-")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	t.wsURL = sioURL(t.httpURL)
	args := []string{"server.js", "--port", strconv.Itoa(port), "--api-key", t.apiKey}
	if recovery {
		args = append(args, "--recovery")
	}
	cmd := exec.Command(n.node, args...)
	cmd.Dir = n.dir
	if err := t.launch(ctx, cmd, logf, "the Node reference server"); err != nil {
		return nil, err
	}
	return t, nil
}

// sioURL is the Socket.IO WebSocket endpoint of the server at httpURL.
func sioURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

// describeNodeMemory summarises process.memoryUsage() as /api/info of
// the Node reference server gives it.
func describeNodeMemory(m map[string]any) string {
	mb := func(k string) string {
		v, ok := m[k].(float64)
		if !ok {
			return "?"
		}
		return fmt.Sprintf("%.1f MB", v/(1<<20))
	}
	return fmt.Sprintf("rss %s, V8 heap %s used of %s, external %s (process.memoryUsage)",
		mb("rss"), mb("heapUsed"), mb("heapTotal"), mb("external"))
}
