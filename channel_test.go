package herald

import (
	"testing"

	"github.com/heraldhq/herald/internal/core"
)

// The public close codes are the ones the core sends.
func TestCloseCodesAreTheCoresOwn(t *testing.T) {
	for name, pair := range map[string][2]int{
		"CloseUnauthorized":   {CloseUnauthorized, core.CloseUnauthorized},
		"CloseDisconnected":   {CloseDisconnected, core.CloseDisconnected},
		"CloseConnectTimeout": {CloseConnectTimeout, core.CloseConnectTimeout},
		"CloseRefused":        {CloseRefused, core.CloseRefused},
		"CloseTokenExpired":   {CloseTokenExpired, core.CloseTokenExpired},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s is %d, the core sends %d", name, pair[0], pair[1])
		}
	}
}
