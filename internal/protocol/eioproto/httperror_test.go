package eioproto

import "testing"

func TestErrorBody(t *testing.T) {
	tests := []struct {
		code   ErrorCode
		body   string
		status int
	}{
		{ErrorUnknownTransport, `{"code":0,"message":"Transport unknown"}`, 400},
		{ErrorUnknownSID, `{"code":1,"message":"Session ID unknown"}`, 400},
		{ErrorBadHandshakeMethod, `{"code":2,"message":"Bad handshake method"}`, 400},
		{ErrorBadRequest, `{"code":3,"message":"Bad request"}`, 400},
		{ErrorForbidden, `{"code":4,"message":"Forbidden"}`, 403},
		{ErrorUnsupportedProtocolVersion, `{"code":5,"message":"Unsupported protocol version"}`, 400},
		{ErrorCode(42), `{"code":42}`, 400},
	}
	for _, tt := range tests {
		if got := string(ErrorBody(tt.code)); got != tt.body {
			t.Errorf("ErrorBody(%d) = %s, want %s", tt.code, got, tt.body)
		}
		if got := tt.code.HTTPStatus(); got != tt.status {
			t.Errorf("HTTPStatus(%d) = %d, want %d", tt.code, got, tt.status)
		}
	}
}

func TestAppendErrorBodyCustomMessage(t *testing.T) {
	got := string(AppendErrorBody(nil, ErrorForbidden, `not "allowed"`))
	want := `{"code":4,"message":"not \"allowed\""}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
