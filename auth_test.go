package herald

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// rsaKeys writes an RSA public key file and returns its path, PEM bytes
// and the private key.
func rsaKeys(t *testing.T) (string, []byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := filepath.Join(t.TempDir(), "rsa.pub")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, pemBytes, key
}

func TestTokensOverTheWire(t *testing.T) {
	path, pubPEM, key := rsaKeys(t)
	cfg := testConfig()
	cfg.AllowAnonymous = false
	cfg.TokenRSAPublicKey = path
	s := startNode(t, cfg)

	rs256, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "rita", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(key)
	wrongSig, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "eve"}).SignedString([]byte("not the secret"))
	confused, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "eve"}).SignedString(pubPEM)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"eve"}`)) + "."
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "old", "exp": time.Now().Add(-time.Minute).Unix()}).SignedString([]byte(testSecret))

	t.Run("valid HS256 in connect", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		if res := c.ok(map[string]any{"op": "connect", "token": token(t, "alice", time.Hour)}); res["user"] != "alice" {
			t.Fatal(res)
		}
		c.ok(map[string]any{"op": "subscribe", "channel": "alerts:x"})
	})
	t.Run("valid RS256 on the URL", func(t *testing.T) {
		c := dialWS(t, s.wsURL("token="+rs256), nil)
		if res := c.ok(map[string]any{"op": "connect"}); res["user"] != "rita" {
			t.Fatal(res)
		}
	})
	bad := map[string]string{"expired": expired, "wrong signature": wrongSig, "alg none": none,
		"HS signed with the RSA public key": confused, "garbage": "not.a.token"}
	for name, tok := range bad {
		t.Run(name+" in connect", func(t *testing.T) {
			c := dialWS(t, s.wsURL(""), nil)
			msg := c.fails(map[string]any{"op": "connect", "token": tok}, 401)
			if name == "expired" && !strings.Contains(msg, "expired") {
				t.Fatalf("message %q does not say expired", msg)
			}
			c.disconnectThenClose(CloseUnauthorized)
		})
		t.Run(name+" on the URL", func(t *testing.T) {
			c := dialWS(t, s.wsURL("token="+tok), nil)
			c.disconnectThenClose(CloseUnauthorized)
		})
	}
	t.Run("command before connect", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		c.fails(map[string]any{"op": "subscribe", "channel": "news"}, 401)
		c.disconnectThenClose(CloseUnauthorized)
	})
	t.Run("no token when anonymous is off", func(t *testing.T) {
		c := dialWS(t, s.wsURL(""), nil)
		c.fails(map[string]any{"op": "connect"}, 401)
		c.disconnectThenClose(CloseUnauthorized)
	})
}

func TestTokenChannelsClaimAndExpiry(t *testing.T) {
	s := startNode(t, testConfig())
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "dana", "channels": []string{"chat:*"}, "exp": time.Now().Add(2 * time.Second).Unix(),
	}).SignedString([]byte(testSecret))
	c := dialWS(t, s.wsURL(""), nil)
	c.ok(map[string]any{"op": "connect", "token": tok})
	c.ok(map[string]any{"op": "subscribe", "channel": "chat:a"})
	c.fails(map[string]any{"op": "subscribe", "channel": "news"}, 403)
	// The token's exp has second precision: the connection ends within ~2s.
	reason := c.disconnectThenClose(CloseTokenExpired)
	if reason != "token expired" {
		t.Fatal(reason)
	}
}

func TestConnectTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.AllowAnonymous = false
	cfg.ConnectTimeout = 100 * time.Millisecond
	s := startNode(t, cfg)
	c := dialWS(t, s.wsURL(""), nil)
	c.disconnectThenClose(CloseConnectTimeout)
}

func TestCustomAuthenticatorAndHooks(t *testing.T) {
	var disconnected = make(chan DisconnectEvent, 4)
	s := startNode(t, testConfig(),
		WithAuthenticator(func(_ context.Context, tok string) (Credentials, error) {
			if user, ok := strings.CutPrefix(tok, "let-me-in:"); ok {
				return Credentials{User: user}, nil
			}
			return Credentials{}, errors.New("unknown ticket")
		}),
		WithHooks(Hooks{
			OnConnect: func(_ context.Context, e ConnectEvent) error {
				if e.User == "mallory" {
					return errors.New("banned")
				}
				return nil
			},
			OnSubscribe: func(_ context.Context, e SubscribeEvent) error {
				if e.Channel == "chat:secret" {
					return errors.New("not for you")
				}
				return nil
			},
			OnPublish: func(_ context.Context, e PublishEvent) error {
				if strings.Contains(string(e.Data), "spam") {
					return errors.New("no spam")
				}
				return nil
			},
			OnDisconnect: func(_ context.Context, e DisconnectEvent) { disconnected <- e },
		}))

	c := dialWS(t, s.wsURL(""), nil)
	if res := c.ok(map[string]any{"op": "connect", "token": "let-me-in:erin"}); res["user"] != "erin" {
		t.Fatal(res)
	}
	if msg := c.fails(map[string]any{"op": "subscribe", "channel": "chat:secret"}, 403); !strings.Contains(msg, "not for you") {
		t.Fatal(msg)
	}
	c.ok(map[string]any{"op": "subscribe", "channel": "chat:open"})
	if msg := c.fails(map[string]any{"op": "publish", "channel": "chat:open", "data": "spam!"}, 403); !strings.Contains(msg, "no spam") {
		t.Fatal(msg)
	}
	c.ok(map[string]any{"op": "publish", "channel": "chat:open", "data": "ham"})

	bad := dialWS(t, s.wsURL(""), nil)
	if msg := bad.fails(map[string]any{"op": "connect", "token": "forged"}, 401); !strings.Contains(msg, "unknown ticket") {
		t.Fatal(msg)
	}
	bad.disconnectThenClose(CloseUnauthorized)

	banned := dialWS(t, s.wsURL("token=let-me-in:mallory"), nil)
	if reason := banned.disconnectThenClose(CloseRefused); !strings.Contains(reason, "banned") {
		t.Fatal(reason)
	}

	c.conn.Close()
	for {
		select {
		case e := <-disconnected:
			if e.User == "erin" {
				return // anonymous connections that failed to upgrade come first
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnDisconnect not called for erin")
		}
	}
}

// A slow OnDisconnect holds up nobody else's close: closes are reported
// from one goroutine for the whole process, and the hook runs off it.
func TestSlowDisconnectHookDoesNotDelayOtherCloses(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	disconnected := make(chan string, 4)
	s := startNode(t, testConfig(),
		WithAuthenticator(func(_ context.Context, tok string) (Credentials, error) {
			return Credentials{User: tok}, nil
		}),
		WithHooks(Hooks{OnDisconnect: func(_ context.Context, e DisconnectEvent) {
			if e.User == "slow" {
				<-release
			}
			disconnected <- e.User
		}}))
	slow := dialWS(t, s.wsURL("token=slow"), nil)
	slow.ok(map[string]any{"op": "ping"})
	fast := dialWS(t, s.wsURL("token=fast"), nil)
	fast.ok(map[string]any{"op": "ping"})
	slow.conn.Close()
	time.Sleep(100 * time.Millisecond) // slow's hook is now waiting
	fast.conn.Close()
	select {
	case u := <-disconnected:
		if u != "fast" {
			t.Fatalf("%s's disconnect came first", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a slow OnDisconnect hook held up another connection's close")
	}
}
