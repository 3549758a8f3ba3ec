//go:build race

package herald

// raceDetector is true under -race, which slows the tests' own clients
// tenfold: the tests that load the node shrink (make test-scale runs them
// full size without it).
const raceDetector = true
