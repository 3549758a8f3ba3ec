package config

import (
	"reflect"
	"strings"

	herald "github.com/heraldhq/herald"
)

// Load builds the config from o: defaults, then the file, then the
// environment, then flags, and validates the result.
//
// Without a file it starts from herald.DefaultConfig, the development
// setup. With a file it starts from DefaultConfig minus what is only safe
// for development: anonymous access is off unless the file turns it on,
// and only the namespaces and default channel policy the file states
// exist. The secrets a deployment needs (see Check) must then be set, by
// the file or an override.
func Load(o Options) (herald.Config, error) {
	return load(o, o.File != "")
}

// Check loads the config the way Load does and also requires the secrets
// a production config must have even when o.File is "": api_key, and one
// of token_secret, token_rsa_public_key or token_ecdsa_public_key unless
// allow_anonymous is true. Each missing one is reported by key name.
func Check(o Options) (herald.Config, error) {
	return load(o, true)
}

func load(o Options, needSecrets bool) (herald.Config, error) {
	c := herald.DefaultConfig()
	if o.File != "" {
		// Keeping the example namespaces would give a deployment
		// channels its file never mentions.
		c.Namespaces = nil
		c.DefaultChannel = herald.ChannelPolicy{}
		c.AllowAnonymous = false
		if err := decodeFile(o.File, &c); err != nil {
			return herald.Config{}, err
		}
	}
	if err := applyEnv(&c, o.Env); err != nil {
		return herald.Config{}, err
	}
	if err := applyFlags(&c, o.Flags); err != nil {
		return herald.Config{}, err
	}
	emptyListsToNil(&c)
	if err := c.Validate(); err != nil {
		return herald.Config{}, err
	}
	if needSecrets {
		if err := requireSecrets(c, o.File); err != nil {
			return herald.Config{}, err
		}
	}
	return c, nil
}

// emptyListsToNil makes "no items" one value whatever its source: YAML's
// [] decodes to an empty slice, the defaults and an empty variable to nil,
// and configs compared with reflect.DeepEqual should not care.
func emptyListsToNil(c *herald.Config) {
	v := reflect.ValueOf(c).Elem()
	for _, s := range keys().byKey {
		if f := v.FieldByIndex(s.index); f.Kind() == reflect.Slice && f.Len() == 0 {
			f.SetZero()
		}
	}
	for _, key := range keys().fileOnly {
		if f := fieldByKey(v, key); f.IsValid() && f.Kind() == reflect.Map && f.Len() == 0 {
			f.SetZero()
		}
	}
}

// fieldByKey finds the struct field a dotted YAML key names.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	for _, name := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}
		}
		found := false
		for i := range v.NumField() {
			if n, _, ok := yamlName(v.Type().Field(i)); ok && n == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}
		}
	}
	return v
}
