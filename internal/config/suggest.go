package config

import "strings"

// suggest returns the candidate closest to name if it is close enough to
// be a likely typo (or a camelCase/kebab-case spelling), else "".
func suggest(name string, candidates []string) string {
	// Past two edits, or one per three letters for short names (foo is
	// not a typo of log), it is a different word rather than a typo.
	best, bestDist := "", min(2, len(name)/3)+1
	for _, c := range candidates {
		if fold(c) == fold(name) {
			return c
		}
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// fold drops case and word separators, so maxConnections, max-connections
// and max_connections compare equal.
func fold(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
