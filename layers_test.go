package herald

import (
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The layers import one way (docs/architecture.md): codecs know no hub,
// broker or core; the hub knows no protocol and no transport; the core
// knows no wire format and no adapter.
func TestLayersImportOneWay(t *testing.T) {
	const mod = "github.com/heraldhq/herald/"
	rules := map[string][]string{
		"internal/protocol": {"internal/hub", "internal/broker", "internal/core", "internal/transport", "internal/heraldws", "socketio"},
		"internal/hub":      {"internal/protocol/jsonproto", "internal/protocol/sioproto", "internal/protocol/eioproto", "internal/transport", "internal/core", "internal/heraldws", "socketio"},
		"internal/broker":   {"internal/hub", "internal/core", "internal/transport", "internal/protocol/jsonproto", "internal/protocol/sioproto"},
		"internal/core":     {"internal/protocol/jsonproto", "internal/protocol/sioproto", "internal/protocol/eioproto", "internal/transport", "internal/heraldws", "socketio"},
	}
	for dir, banned := range rules {
		files := 0
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			files++
			f, err := parser.ParseFile(gotoken.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range banned {
					if p == mod+b || strings.HasPrefix(p, mod+b+"/") {
						t.Errorf("%s imports %s", path, p)
					}
				}
			}
			return nil
		})
		if err != nil || files == 0 {
			t.Fatalf("%s: %d files read, %v", dir, files, err)
		}
	}
}
