package bench

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/internal/protocol/jsonproto"
)

func TestParsePublication(t *testing.T) {
	tests := []struct {
		name      string
		msg       string
		seq, sent int64
		ok        bool
	}{
		{"server publication",
			`{"type":"publication","channel":"bench","offset":42,"epoch":"9f86d081","time":1767225600000,"data":{"s":7,"t":1767225600123456789,"p":"xxxx"}}`,
			7, 1767225600123456789, true},
		{"with info after data",
			`{"type":"publication","channel":"bench","offset":1,"data":{"s":1,"t":5,"p":""},"info":{"client":"a-1","user":"s"}}`,
			1, 5, true},
		{"spaces after colons",
			`{"type":"publication","channel":"bench","offset":1,"data":{"s": 12, "t":  99}}`,
			12, 99, true},
		{"keys in another order", `{"type":"publication","channel":"b","offset":1,"data":{"t":3,"s":4}}`, 4, 3, true},
		{"negative time", `{"type":"publication","channel":"b","offset":1,"data":{"s":4,"t":-3}}`, 4, -3, true},
		{"largest int64", `{"type":"publication","channel":"b","offset":1,"data":{"s":9223372036854775807,"t":0}}`, 9223372036854775807, 0, true},
		{"overflow", `{"type":"publication","channel":"b","offset":1,"data":{"s":9223372036854775808,"t":0}}`, 0, 0, false},
		{"too many digits", `{"type":"publication","channel":"b","offset":1,"data":{"s":12345678901234567890123,"t":0}}`, 0, 0, false},
		{"reply", `{"id":1,"result":{"channel":"bench","offset":0,"epoch":"x"}}`, 0, 0, false},
		{"push with bench data", `{"type":"push","event":"e","data":{"s":1,"t":2}}`, 0, 0, false},
		{"no seq", `{"type":"publication","channel":"b","offset":1,"data":{"t":2}}`, 0, 0, false},
		{"no time", `{"type":"publication","channel":"b","offset":1,"data":{"s":2}}`, 0, 0, false},
		{"seq not a number", `{"type":"publication","channel":"b","offset":1,"data":{"s":"2","t":1}}`, 0, 0, false},
		{"data not an object", `{"type":"publication","channel":"b","offset":1,"data":"s"}`, 0, 0, false},
		{"empty", ``, 0, 0, false},
		{"truncated", `{"type":"publication","channel":"b","offset":1,"data":{"s":`, 0, 0, false},
		{"minus alone", `{"type":"publication","channel":"b","offset":1,"data":{"s":-,"t":1}}`, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, sent, ok := ParsePublication([]byte(tt.msg))
			if ok != tt.ok || (ok && (seq != tt.seq || sent != tt.sent)) {
				t.Errorf("ParsePublication = %d, %d, %v; want %d, %d, %v", seq, sent, ok, tt.seq, tt.sent, tt.ok)
			}
		})
	}
}

func TestPublishBodyRoundTrip(t *testing.T) {
	for _, size := range []int{0, 10, 64, 65, 1000} {
		body := AppendPublishBody(nil, "bench", 123, 1767225600123456789, size)
		var req struct {
			Channel string          `json:"channel"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("size %d: body %s is not JSON: %v", size, body, err)
		}
		if req.Channel != "bench" {
			t.Fatalf("channel %q", req.Channel)
		}
		min := len(`{"s":123,"t":1767225600123456789,"p":""}`)
		if want := max(size, min); len(req.Data) != want {
			t.Errorf("size %d: data is %d bytes, want %d: %s", size, len(req.Data), want, req.Data)
		}
		// As the server would send it on.
		msg := `{"type":"publication","channel":"bench","offset":1,"epoch":"e","time":1,"data":` + string(req.Data) + `}`
		seq, sent, ok := ParsePublication([]byte(msg))
		if !ok || seq != 123 || sent != 1767225600123456789 {
			t.Errorf("size %d: parsed %d, %d, %v", size, seq, sent, ok)
		}
	}
}

func TestLeanPathDoesNotAllocate(t *testing.T) {
	frame := []byte(`{"type":"publication","channel":"bench","offset":42,"data":{"s":7,"t":1767225600123456789,"p":"xx"}}` + "\n" +
		`{"type":"publication","channel":"bench","offset":43,"data":{"s":8,"t":1767225600123456789,"p":"xx"}}`)
	c := &wconn{seen: make([]uint64, 1)}
	h := NewHistogram()
	allocs := testing.AllocsPerRun(1000, func() {
		jsonproto.Split(frame, func(line []byte) { c.account(h, line, 1767225600123456789+1000) })
	})
	if allocs != 0 {
		t.Errorf("parsing and accounting a frame allocates %.1f times", allocs)
	}
	if c.recv.Load() == 0 || c.dups == 0 {
		t.Errorf("recv %d dups %d: the frame was not accounted", c.recv.Load(), c.dups)
	}
}

func TestAccountTracksSeqs(t *testing.T) {
	c := &wconn{}
	h := NewHistogram()
	line := func(seq int) []byte {
		return []byte(`{"type":"publication","channel":"b","offset":1,"data":{"s":` + strconv.Itoa(seq) + `,"t":100}}`)
	}
	for _, s := range []int{1, 2, 3, 3, 5, 200, 0} {
		c.account(h, line(s), 150)
	}
	c.account(h, []byte(`{"id":1,"result":{}}`), 150)
	in, above := countSeen(c.seen, 5)
	if in != 4 || above != 1 || c.dups != 1 || c.extra != 1 || c.unparsed != 1 || c.recv.Load() != 7 {
		t.Fatalf("in %d above %d dups %d extra %d unparsed %d recv %d", in, above, c.dups, c.extra, c.unparsed, c.recv.Load())
	}
	if h.Count() != 7 || h.Max() != 50 {
		t.Fatalf("latency count %d max %v", h.Count(), h.Max())
	}
}

func BenchmarkParsePublication(b *testing.B) {
	msg := []byte(`{"type":"publication","channel":"bench","offset":42,"epoch":"9f86d081","time":1767225600000,"data":{"s":7,"t":1767225600123456789,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	for b.Loop() {
		if _, _, ok := ParsePublication(msg); !ok {
			b.Fatal("not parsed")
		}
	}
}
