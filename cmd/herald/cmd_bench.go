package main

import (
	"errors"
	"io"
	"os"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
)

// runBench runs `herald bench`: see cmd/herald/internal/bench. Its hidden
// `worker` subcommand is what the scenarios spawn to hold connections; it
// reads its parent's commands from stdin.
func runBench(args []string, stdout, stderr io.Writer) error {
	err := bench.Main(args, bench.Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr})
	if ue, ok := errors.AsType[*bench.UsageError](err); ok {
		return usageError("%s", ue.Msg)
	}
	return err
}
