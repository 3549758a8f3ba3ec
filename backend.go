package herald

import (
	"fmt"

	"github.com/heraldhq/herald/internal/broker"
)

// openBackend connects to the broker the config names; a zero Backend
// (and no presence TTL) for memory, which the core builds itself.
func (n *Node) openBackend() (broker.Backend, error) {
	kind, url, err := n.cfg.brokerURL()
	if err != nil {
		return broker.Backend{}, err
	}
	cl := n.cfg.Cluster
	var b broker.Backend
	switch kind {
	case BrokerMemory:
		return broker.Backend{}, nil
	case BrokerRedis:
		b, err = broker.NewRedisBackend(broker.RedisOptions{URL: url, Prefix: cl.Prefix, MetaTTL: n.cfg.HistoryMetaTTL,
			PresenceTTL: cl.PresenceTTL, RegistryTTL: cl.NodeTTL, Log: n.log})
	case BrokerNATS:
		b, err = broker.NewNATSBackend(broker.NATSOptions{URL: url, Prefix: cl.Prefix, MetaTTL: n.cfg.HistoryMetaTTL,
			PresenceTTL: cl.PresenceTTL, RegistryTTL: cl.NodeTTL, Name: "herald " + n.nodeName()})
	}
	if err != nil {
		return broker.Backend{}, fmt.Errorf("herald: broker %s: %w", kind, err)
	}
	return b, nil
}
