// Package config turns a YAML file, the environment and command-line
// flags into a validated herald.Config.
//
// Sources are layered so that the most specific one wins: defaults, then
// the file, then HERALD_* environment variables, then flags. Every key is
// addressed the same way everywhere, by its YAML path
// ("limits.max_connections"); the environment spells it in upper case with
// "_" for "." (HERALD_LIMITS_MAX_CONNECTIONS). The list of keys is read
// from herald.Config's yaml tags by reflection, so a new field is settable
// from every source without touching this package.
package config
