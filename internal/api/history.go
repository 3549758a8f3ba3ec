package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/core"
	"github.com/heraldhq/herald/internal/protocol/jsonproto"
	"github.com/heraldhq/herald/internal/protocol/record"
)

// Bounds of one page of /api/history: a page is built in memory and sent
// whole, so its size is capped; the cursor fetches the rest.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 1000
)

// historyParams are the query parameters /api/history takes.
var historyParams = []string{"channel", "since", "epoch", "limit", "cursor"}

type historyResponse struct {
	Channel      string `json:"channel"`
	Publications []any  `json:"publications"`
	Offset       uint64 `json:"offset"`
	Epoch        string `json:"epoch"`
	// Next continues the listing; absent on the last page.
	Next string `json:"next,omitempty"`
}

func (s *server) history(r *http.Request) (int, any) {
	ch, q, err := historyQuery(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	limit := q.Limit
	q.Limit++ // one past the page says whether another follows
	pubs, pos, herr := s.core.History(r.Context(), ch, q)
	if herr != nil {
		return fail(herr)
	}
	resp := historyResponse{Channel: ch, Offset: pos.Offset, Epoch: pos.Epoch}
	if len(pubs) > limit {
		pubs = pubs[:limit]
		resp.Next = cursor(pubs[limit-1].Offset, pos.Epoch)
	}
	resp.Publications = publicationValues(pubs)
	return http.StatusOK, resp
}

// historyQuery reads /api/history's parameters; a cursor stands for the
// since and epoch of the page it continues.
func historyQuery(v url.Values) (string, core.HistoryQuery, *Error) {
	for _, name := range slices.Sorted(maps.Keys(v)) {
		if !slices.Contains(historyParams, name) {
			return "", core.HistoryQuery{}, badParam("unknown query parameter %q", name)
		}
	}
	ch := v.Get("channel")
	if ch == "" {
		return "", core.HistoryQuery{}, badParam(`missing query parameter "channel"`)
	}
	q := core.HistoryQuery{Limit: defaultHistoryLimit, Epoch: v.Get("epoch")}
	if s := v.Get("limit"); v.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHistoryLimit {
			return "", q, badParam("query parameter \"limit\" must be a whole number from 1 to %d (got %q)", maxHistoryLimit, s)
		}
		q.Limit = n
	}
	if s := v.Get("since"); v.Has("since") {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return "", q, badParam("query parameter \"since\" must be a whole number (got %q)", s)
		}
		q.Since = n
	}
	if c := v.Get("cursor"); v.Has("cursor") {
		if v.Has("since") || v.Has("epoch") {
			return "", q, badParam(`query parameter "cursor" continues a listing: send it without "since" and "epoch"`)
		}
		var ok bool
		if q.Since, q.Epoch, ok = parseCursor(c); !ok {
			return "", q, badParam("query parameter \"cursor\" must be a \"next\" from /api/history (got %q)", c)
		}
	}
	return ch, q, nil
}

// cursor continues a listing after offset in the stream of epoch; its
// form, "<offset>.<epoch>", is what docs/api.md describes.
func cursor(offset uint64, epoch string) string {
	return strconv.FormatUint(offset, 10) + "." + epoch
}

func parseCursor(c string) (since uint64, epoch string, ok bool) {
	off, epoch, found := strings.Cut(c, ".")
	since, err := strconv.ParseUint(off, 10, 64)
	return since, epoch, found && err == nil && epoch != ""
}

func publicationValues(pubs []*record.Publication) []any {
	out := make([]any, len(pubs))
	for i, p := range pubs {
		out[i] = jsonproto.PublicationValue(p)
	}
	return out
}

func badParam(format string, args ...any) *Error {
	return &Error{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

type removeHistoryResponse struct {
	Channel string `json:"channel"`
	Offset  uint64 `json:"offset"`
	Epoch   string `json:"epoch"`
}

func (s *server) removeHistory(r *http.Request) (int, any) {
	var req struct {
		Channel string `json:"channel"`
	}
	if err := s.decode(r, &req); err != nil {
		return fail(err)
	}
	if req.Channel == "" {
		return fail(missing("channel"))
	}
	pos, err := s.core.RemoveHistory(r.Context(), req.Channel)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, removeHistoryResponse{req.Channel, pos.Offset, pos.Epoch}
}
