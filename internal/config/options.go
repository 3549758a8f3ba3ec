package config

// Options says where settings come from. Later sources win:
// File < Env < Flags.
type Options struct {
	// File is the path of a YAML config file; "" means none, which runs
	// the development defaults of herald.DefaultConfig.
	File string
	// Env is the environment as os.Environ returns it. Only HERALD_*
	// entries are read; passing it in (rather than reading os.Environ
	// here) keeps Load pure and testable.
	Env []string
	// Flags holds overrides already parsed by the CLI, keyed by YAML key
	// path ("addr", "limits.max_connections"), with values spelled as in
	// the environment.
	Flags map[string]string
}
