package broker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/brokertest"
	"github.com/heraldhq/herald/internal/testservices"
)

// TestRedisSentinelBackend runs the suite through a Sentinel the test
// starts beside a master of its own: the URL names the sentinel and the
// master set, and the client asks the sentinel where the master is.
func TestRedisSentinelBackend(t *testing.T) {
	t.Parallel()
	master := testservices.OwnRedis(t)
	host, port, _ := strings.Cut(master.Addr, ":")
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("sentinel monitor herald-test %s %s 1\n", host, port)), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := testservices.OwnRedisConf(t, conf, "--sentinel")
	opts := broker.RedisOptions{URL: "redis://" + sentinel.Addr + "?master_set=herald-test", Prefix: "sentinel",
		PresenceTTL: redisTestTTL, RegistryTTL: redisTestTTL}
	brokertest.Run(t, brokertest.Setup{
		NewNode: func(t *testing.T) broker.Backend {
			b, err := broker.NewRedisBackend(opts)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		MultiNode:   true,
		PresenceTTL: redisTestTTL,
		RegistryTTL: redisTestTTL,
	})
}
