package herald

import (
	"context"
	"errors"

	"github.com/heraldhq/herald/internal/auth"
)

// errNoTokenAuth is returned for a token when the node has no way to
// check one.
var errNoTokenAuth = errors.New("this server does not accept tokens (no token_secret or public key configured)")

// authenticateToken checks a connection token with the application's
// authenticator, or else the JWT verifier.
func (n *Node) authenticateToken(ctx context.Context, token string) (Credentials, error) {
	if n.authenticate != nil {
		return n.authenticate(ctx, token)
	}
	if n.verifier == nil {
		return Credentials{}, errNoTokenAuth
	}
	c, err := n.verifier.Verify(token)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{User: c.User, ExpiresAt: c.ExpiresAt, Channels: c.Channels, Info: c.Info}, nil
}

// allowsChannel applies a token's channel claim.
func (c Credentials) allowsChannel(ch string) bool {
	return auth.Credentials{Channels: c.Channels}.AllowsChannel(ch)
}
