package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"

	herald "github.com/heraldhq/herald"
	"gopkg.in/yaml.v3"
)

// decodeFile reads the YAML file at path over c: keys the file leaves out
// keep the value c already has.
func decodeFile(path string, c *herald.Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	return decodeYAML(path, data, c)
}

// decodeYAML decodes data (named name in errors) over c, rejecting keys
// herald.Config does not have: a misspelt key silently ignored is a
// setting silently not applied.
func decodeYAML(name string, data []byte, c *herald.Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if errors.Is(err, io.EOF) {
		return nil // an empty file (or only comments) sets nothing
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return explainTypeError(name, data, te)
	}
	if err != nil {
		return explainSyntaxError(name, err)
	}
	return nil
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// explainSyntaxError puts a parse error in the file:line: form the other
// file errors use.
func explainSyntaxError(name string, err error) error {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %w", name, err)
}

// explainTypeError rewrites each of yaml.v3's messages, which give a line
// and a Go type, into one that names the key and says what was expected.
func explainTypeError(name string, data []byte, te *yaml.TypeError) error {
	var root yaml.Node
	// The data decoded far enough to produce type errors, so it parses.
	_ = yaml.Unmarshal(data, &root)
	ix := newNodeIndex(&root, reflect.TypeFor[herald.Config]())
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		if line, why := ix.explain(msg); line > 0 {
			errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, why))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", name, why))
		}
	}
	return errors.Join(errs...)
}
