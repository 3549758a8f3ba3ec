//go:build race

package main

// raceDetector is true under -race, which slows the tests' own clients
// tenfold: the load tests shrink.
const raceDetector = true
