// Package auth authenticates Herald clients.
//
// WebSocket clients present a JWT, which [Verifier] checks and turns into
// [Credentials]. Server-side callers of the HTTP API present a static API key
// in an "Authorization: apikey <key>" header, checked with [CheckAPIKey].
// [SignHS256] and [GenerateSecret] exist for the CLI and dev mode, where
// Herald has to mint its own tokens and keys.
package auth
