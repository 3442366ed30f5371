package handler

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGetHeadOnly(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics\n") })
	h := GetHeadOnly(next)
	tests := []struct {
		method string
		status int
		allow  string
		body   string
	}{
		{http.MethodGet, http.StatusOK, "", "metrics\n"},
		{http.MethodHead, http.StatusOK, "", "metrics\n"}, // the recorder keeps what a server would drop
		{http.MethodPost, http.StatusMethodNotAllowed, "GET, HEAD", ""},
		{http.MethodPut, http.StatusMethodNotAllowed, "GET, HEAD", ""},
		{http.MethodDelete, http.StatusMethodNotAllowed, "GET, HEAD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/metrics/prometheus", nil))
			if rec.Code != tt.status || rec.Header().Get("Allow") != tt.allow {
				t.Errorf("status %d, Allow %q; want %d, %q", rec.Code, rec.Header().Get("Allow"), tt.status, tt.allow)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q, want the wrapped handler's %q", rec.Body, tt.body)
			}
		})
	}
}
