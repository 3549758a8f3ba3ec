package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestSeqSet(t *testing.T) {
	var s seqSet
	for _, seq := range []int64{200, 5, 64, 63, 1000, 5} {
		s.add(seq)
	}
	if dup, ok := s.add(5); !dup || !ok {
		t.Errorf("adding 5 again: dup %v ok %v", dup, ok)
	}
	for _, bad := range []int64{0, -1, 1000 + maxSeqSpan} {
		if _, ok := s.add(bad); ok {
			t.Errorf("add(%d) accepted", bad)
		}
	}
	var got []int64
	s.each(1<<40, func(seq int64) { got = append(got, seq) })
	if want := []int64{5, 63, 64, 200, 1000}; !slices.Equal(got, want) || s.max != 1000 {
		t.Errorf("set %v max %d; want %v max 1000", got, s.max, want)
	}
	got = got[:0]
	s.each(199, func(seq int64) { got = append(got, seq) })
	if want := []int64{5, 63, 64}; !slices.Equal(got, want) {
		t.Errorf("up to 199: %v; want %v", got, want)
	}
}

// soakLifeWith is a life acknowledged at ack that received seqs of its
// channel (stream 3) and pushes of its user (stream 7).
func soakLifeWith(ack int64, pubs, pushes []int64) *soakLife {
	l := newSoakLife(0, false, 3, 7)
	l.acknowledge(ack)
	for _, s := range pubs {
		l.record(soakMsg{kind: kindPub, stream: 3, seq: s, sentNs: 1})
	}
	for _, s := range pushes {
		l.record(soakMsg{kind: kindPush, stream: 7, seq: s, sentNs: 1})
	}
	return l
}

// soakTableOf holds seqs 1..n of channel 3 and user 7, seq i sent at
// 100*i, except those in refused.
func soakTableOf(n int64, refused ...int64) *soakTable {
	var t soakTable
	for seq := int64(1); seq <= n; seq++ {
		if !slices.Contains(refused, seq) {
			t.add(kindPub, 3, seq, 100*seq)
			t.add(kindPush, 7, seq, 100*seq)
		}
	}
	return &t
}

func TestSoakLifeTally(t *testing.T) {
	tests := []struct {
		name             string
		ack              int64
		got              []int64
		table            *soakTable
		closed, final    bool
		expected, missed int64
		extra, dups      int64
	}{
		{name: "everything", ack: 50, got: []int64{1, 2, 3, 4, 5}, table: soakTableOf(5), expected: 5},
		{name: "a gap while connected", ack: 50, got: []int64{1, 2, 4, 5}, table: soakTableOf(5), expected: 5, missed: 1},
		{name: "sent before the subscription: not owed", ack: 250, got: []int64{3, 4, 5}, table: soakTableOf(5), expected: 3},
		{name: "sent before and received anyway", ack: 250, got: []int64{2, 3, 4, 5}, table: soakTableOf(5), expected: 3},
		{name: "the first owed one missing", ack: 250, got: []int64{4, 5}, table: soakTableOf(5), expected: 3, missed: 1},
		{name: "a refused seq is not owed", ack: 50, got: []int64{1, 2, 4}, table: soakTableOf(4, 3), expected: 3},
		{name: "a refused seq delivered", ack: 50, got: []int64{1, 2, 3, 4}, table: soakTableOf(4, 3), expected: 3, extra: 1},
		{name: "open, tail not yet owed", ack: 50, got: []int64{1, 2}, table: soakTableOf(5), expected: 2},
		{name: "open, final: the tail is owed", ack: 50, got: []int64{1, 2}, table: soakTableOf(5), final: true, expected: 5, missed: 3},
		{name: "closed, final: the tail is not owed", ack: 50, got: []int64{1, 2}, table: soakTableOf(5), closed: true, final: true, expected: 2},
		{name: "closed with a gap", ack: 50, got: []int64{1, 3}, table: soakTableOf(5), closed: true, final: true, expected: 3, missed: 1},
		{name: "open, final, nothing received", ack: 50, table: soakTableOf(5), final: true, expected: 5, missed: 5},
		{name: "a duplicate", ack: 50, got: []int64{1, 2, 2}, table: soakTableOf(2), expected: 2, dups: 1},
		{name: "unknown while the table lags", ack: 50, got: []int64{1, 2, 3}, table: soakTableOf(2), expected: 2, extra: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := soakLifeWith(tt.ack, tt.got, tt.got)
			if tt.closed {
				l.end(lifeClosedByUs)
			}
			counts, _ := l.tally(tt.table, tt.final)
			for kind, c := range counts {
				if c.Expected != tt.expected || c.Missing() != tt.missed || c.Extra != tt.extra || c.Duplicates != tt.dups || c.Foreign != 0 {
					t.Errorf("kind %d: %+v (missing %d); want expected %d, missing %d, extra %d, duplicates %d",
						kind, c, c.Missing(), tt.expected, tt.missed, tt.extra, tt.dups)
				}
			}
		})
	}
}

func TestSoakLifeUnacknowledgedOwesNothing(t *testing.T) {
	l := newSoakLife(0, true, 3, 7)
	l.record(soakMsg{kind: kindPub, stream: 3, seq: 1})
	if counts, _ := l.tally(soakTableOf(5), true); counts[kindPub].Expected != 0 || counts[kindPush].Expected != 0 {
		t.Errorf("a life never acknowledged owes %+v", counts)
	}
}

func TestSoakLifeForeignAndUnrecognised(t *testing.T) {
	l := soakLifeWith(50, []int64{1}, nil)
	l.record(soakMsg{kind: kindPub, stream: 4, seq: 2})
	l.record(soakMsg{kind: kindPush, stream: 8, seq: 1})
	l.record(soakMsg{unrecognised: true})
	counts, unrecognised := l.tally(soakTableOf(1), false)
	if counts[kindPub].Foreign != 1 || counts[kindPush].Foreign != 1 || unrecognised != 1 {
		t.Errorf("counts %+v, unrecognised %d; want one foreign of each kind and one unrecognised", counts, unrecognised)
	}
}

func TestSoakTableRefusesNonsense(t *testing.T) {
	var tb soakTable
	for _, e := range [][4]int64{{2, 0, 1, 1}, {-1, 0, 1, 1}, {0, -1, 1, 1}, {0, maxSoakStreams, 1, 1}, {0, 0, 0, 1}, {0, 0, maxSeqSpan + 1, 1}, {0, 0, 1, 0}} {
		if tb.add(int(e[0]), e[1], e[2], e[3]) {
			t.Errorf("table took %v", e)
		}
	}
	if !tb.add(kindPush, 2, 3, 9) || tb.row(kindPush, 2)[2] != 9 || tb.row(kindPub, 2) != nil {
		t.Errorf("table: %+v", tb)
	}
}

func TestSoakFailures(t *testing.T) {
	pass := SoakReport{Conns: 10, Connected: 10, Warmup: 10, MaxRSSGrowth: 5, Samples: []SoakSample{
		{At: 0, RSSKB: 500}, {At: 10, RSSKB: 1000}, {At: 15, RSSKB: 990}, {At: 20, RSSKB: 1200},
		{At: 25, RSSKB: 1010}, {At: 30, RSSKB: 1000}, {At: 35, RSSKB: 1020, Final: true}}}
	pass.Account.Pub = soakCounts{Expected: 10, Received: 10}
	pass.summarize()
	if s := pass.Summary; len(pass.Failures) != 0 || s.RSSGrowthPercent != 1 || s.RSSBaselineKB != 1000 || s.RSSEndKB != 1010 || s.RSSMaxKB != 1200 || s.Samples != 6 {
		t.Fatalf("failures %q, summary %+v; want none, 1%% growth from 1000 to 1010, max 1200, 6 samples", pass.Failures, pass.Summary)
	}
	tests := []struct {
		name   string
		change func(r *SoakReport)
		want   string
	}{
		{"loss", func(r *SoakReport) { r.Account.Push = soakCounts{Expected: 3, Received: 2} }, "1 of 13 deliveries lost"},
		{"growth", func(r *SoakReport) { r.MaxRSSGrowth = 0.5 }, "RSS grew 1.0%"},
		{"duplicates", func(r *SoakReport) { r.Account.Pub.Duplicates = 2 }, "2 duplicate"},
		{"refused", func(r *SoakReport) { r.Load.Refused = 1 }, "1 publishes or pushes refused"},
		{"server closes", func(r *SoakReport) { r.Account.ServerClosed = 1 }, "closed by the server"},
		{"not connected", func(r *SoakReport) { r.Connected = 9 }, "1 of 10 connections failed"},
		{"nothing owed", func(r *SoakReport) { r.Account.Pub = soakCounts{} }, "nothing was checked"},
		{"unfinished", func(r *SoakReport) { r.Samples = r.Samples[:6] }, "did not finish"},
		{"extra", func(r *SoakReport) { r.Account.Pub.Extra = 1 }, "did not accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pass
			r.Samples = slices.Clone(pass.Samples)
			tt.change(&r)
			r.summarize()
			if !strings.Contains(strings.Join(r.Failures, "; "), tt.want) {
				t.Errorf("failures %q; want one saying %q", r.Failures, tt.want)
			}
		})
	}
}
