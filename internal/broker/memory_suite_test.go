package broker_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/brokertest"
)

func TestMemoryBackend(t *testing.T) {
	brokertest.Run(t, brokertest.Setup{NewNode: func(*testing.T) broker.Backend {
		return broker.Backend{Broker: broker.NewMemoryBroker(0, nil), Presence: broker.NewMemoryPresence(),
			Registry: broker.NewMemoryRegistry()}
	}})
}
