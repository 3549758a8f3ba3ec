// Command herald runs and talks to herald, the real-time messaging server.
//
//	herald serve        run a server (dev mode without a config file)
//	herald client URL   connect and print what arrives; stdin lines are published
//	herald bench        measure idle memory, fan-out and a long soak
//	herald gentoken     print a connection token
//	herald genconfig    print a commented default config
//	herald checkconfig  validate a config file
//	herald version      print the version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `herald — a real-time messaging server

Usage:
  herald serve [--config FILE] [--addr :8080] [--api-key K] [--token-secret S] [--allow-anonymous]
  herald client ws://HOST/ws [--token T] [--sub CHANNEL]... [--pub CHANNEL]
  herald bench idle|fanout|socketio|soak|history|resume [flags] (herald bench -h for details)
  herald gentoken --user U [--ttl 1h] [--channels a,b] [--secret S | --config FILE]
  herald genconfig
  herald checkconfig --config FILE
  herald version

Settings: a YAML file (--config or HERALD_CONFIG) < environment (HERALD_*) < flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and turns its error into an exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(rest, stdout, stderr)
	case "client":
		err = runClient(rest, stdin, stdout, stderr)
	case "bench":
		err = runBench(rest, stdout, stderr)
	case "gentoken":
		err = runGenToken(rest, stdout, stderr)
	case "genconfig":
		err = runGenConfig(rest, stdout, stderr)
	case "checkconfig":
		err = runCheckConfig(rest, stdout, stderr)
	case "version", "--version", "-v":
		err = runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "herald: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "herald:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "herald:", err)
		return 1
	}
}

// errUsage marks errors in how a command was called (exit status 2).
var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
