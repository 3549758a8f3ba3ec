package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/config"
)

func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "herald %s\n", herald.Version)
	return err
}

func runGenConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("genconfig", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := io.WriteString(stdout, config.DefaultYAML())
	return err
}

func runCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("checkconfig", stderr)
	file := fs.String("config", os.Getenv("HERALD_CONFIG"), "config file to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return usageError("checkconfig needs --config FILE")
	}
	if _, err := config.Check(config.Options{File: *file, Env: os.Environ()}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "%s: ok\n", *file)
	return err
}

func runGenToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gentoken", stderr)
	user := fs.String("user", "", "user id (the token's sub)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime; 0 for a token that never expires")
	channels := fs.String("channels", "", "comma-separated channels the token may subscribe to (default: any)")
	info := fs.String("info", "", "public JSON shown in presence, e.g. '{\"name\":\"Alice\"}'")
	secret := fs.String("secret", "", "HS256 secret (default: token_secret of --config, or HERALD_TOKEN_SECRET)")
	file := fs.String("config", os.Getenv("HERALD_CONFIG"), "config file to read token_secret from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		return usageError("gentoken needs --user")
	}
	key, err := tokenSecret(*secret, *file)
	if err != nil {
		return err
	}
	opts := auth.TokenOptions{User: *user, TTL: *ttl}
	if *channels != "" {
		opts.Channels = strings.Split(*channels, ",")
	}
	if *info != "" {
		if !json.Valid([]byte(*info)) {
			return usageError("--info must be JSON")
		}
		opts.Info = json.RawMessage(*info)
	}
	tok, err := auth.SignHS256(key, opts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// tokenSecret finds the HS256 secret: the flag, else the config file, else
// the environment.
func tokenSecret(flagValue, file string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if file != "" {
		cfg, err := config.Load(config.Options{File: file, Env: os.Environ()})
		if err != nil {
			return "", err
		}
		if cfg.TokenSecret == "" {
			return "", fmt.Errorf("%s has no token_secret", file)
		}
		return cfg.TokenSecret, nil
	}
	if s := os.Getenv("HERALD_TOKEN_SECRET"); s != "" {
		return s, nil
	}
	return "", usageError("gentoken needs --secret, --config or HERALD_TOKEN_SECRET")
}
