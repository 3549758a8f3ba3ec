package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// located is a node of the file with the key path it sits at. yaml.v3
// reports type errors by line and Go type only; these let the message be
// turned back into the key the user wrote.
type located struct {
	node   *yaml.Node
	path   string
	isKey  bool
	typ    reflect.Type // what the value at path decodes into; nil if unknown
	parent reflect.Type // for keys: the type that should have had the key
	used   bool         // already matched to an error
}

// nodeIndex is every key and value of a document in document order,
// which is also the order yaml.v3 reports errors in.
type nodeIndex []*located

func newNodeIndex(root *yaml.Node, t reflect.Type) nodeIndex {
	var ix nodeIndex
	ix.add(root, "", t)
	return ix
}

func (ix *nodeIndex) add(n *yaml.Node, path string, t reflect.Type) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			ix.add(c, path, t)
		}
	case yaml.MappingNode:
		*ix = append(*ix, &located{node: n, path: path, typ: t})
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge key adds its keys at this level
				ix.add(v, path, t)
				continue
			}
			child := joinKey(path, k.Value)
			ct := childType(t, k.Value)
			*ix = append(*ix, &located{node: k, path: child, isKey: true, typ: ct, parent: t})
			ix.add(v, child, ct)
		}
	case yaml.SequenceNode:
		*ix = append(*ix, &located{node: n, path: path, typ: t})
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i, c := range n.Content {
			ix.add(c, fmt.Sprintf("%s[%d]", path, i), et)
		}
	case yaml.ScalarNode:
		*ix = append(*ix, &located{node: n, path: path, typ: t})
	}
	// Alias nodes are skipped: yaml.v3 reports an alias's errors at the
	// anchored node, which is indexed where it is defined.
}

// key finds the first unmatched key node named name on line.
func (ix nodeIndex) key(line int, name string) *located {
	return ix.find(func(l *located) bool {
		return l.isKey && l.node.Line == line && l.node.Value == name
	})
}

// value finds the first unmatched value node on line that yaml.v3's
// "cannot unmarshal" message describes: tag !!seq or !!map for
// collections, else a scalar whose text is shown (cut to 7 bytes and
// "..." past 10).
func (ix nodeIndex) value(line int, tag, text string, hasText bool) *located {
	return ix.find(func(l *located) bool {
		n := l.node
		if l.isKey || n.Line != line {
			return false
		}
		switch {
		case !hasText:
			return (tag == "!!seq" && n.Kind == yaml.SequenceNode) ||
				(tag == "!!map" && n.Kind == yaml.MappingNode)
		case strings.HasSuffix(text, "...") && len(n.Value) > 10:
			return n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, strings.TrimSuffix(text, "..."))
		default:
			return n.Kind == yaml.ScalarNode && n.Value == text
		}
	})
}

func (ix nodeIndex) find(match func(*located) bool) *located {
	for _, l := range ix {
		if !l.used && match(l) {
			l.used = true
			return l
		}
	}
	return nil
}

var (
	errLine      = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	errNotFound  = regexp.MustCompile(`(?s)^field (.*) not found in type \S+$`)
	errSetTwice  = regexp.MustCompile(`(?s)^field (.*) already set in type \S+$`)
	errDuplicate = regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	errCannot    = regexp.MustCompile("(?s)^cannot unmarshal (\\S+)(?: `(.*)`)? into (.+)$")
)

// explain rewrites one yaml.v3 type error message into "KEY: WHY" and
// the line it is on (0 if the message gives none). Messages it cannot
// place are kept as they are, which still give the line.
func (ix nodeIndex) explain(msg string) (line int, why string) {
	m := errLine.FindStringSubmatch(msg)
	if m == nil {
		return 0, msg
	}
	line, _ = strconv.Atoi(m[1])
	if why = ix.explainAt(line, m[2]); why == "" {
		why = m[2]
	}
	return line, why
}

func (ix nodeIndex) explainAt(line int, msg string) string {
	if m := errNotFound.FindStringSubmatch(msg); m != nil {
		if l := ix.key(line, m[1]); l != nil {
			why := "unknown key"
			if s := suggest(m[1], childNames(l.parent)); s != "" {
				why += fmt.Sprintf("; did you mean %s?", s)
			}
			return l.path + ": " + why
		}
	}
	if m := errSetTwice.FindStringSubmatch(msg); m != nil {
		if l := ix.key(line, m[1]); l != nil {
			return l.path + ": set twice"
		}
	}
	if m := errDuplicate.FindStringSubmatch(msg); m != nil {
		if name, err := strconv.Unquote(m[1]); err == nil {
			if l := ix.key(line, name); l != nil {
				return fmt.Sprintf("%s: set twice (first at line %s)", l.path, m[2])
			}
		}
	}
	if m := errCannot.FindStringSubmatch(msg); m != nil {
		hasText := strings.Contains(msg, "`")
		if l := ix.value(line, m[1], m[2], hasText); l != nil && l.typ != nil {
			key := l.path
			if key == "" {
				key = "top level" // the document itself, e.g. a list
			}
			return fmt.Sprintf("%s: cannot use %s as %s", key, shown(l.node), describe(l.typ))
		}
	}
	return ""
}

// shown is how an error message quotes the offending value.
func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}
