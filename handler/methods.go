package handler

import "net/http"

// GetHeadOnly wraps a metrics handler so that it answers GET and HEAD only,
// as SPEC.md §1.11 asks of a scrape endpoint, and refuses every other method
// with 405 Method Not Allowed and an Allow header. MetricsHandler does this
// itself; GetHeadOnly is for other handlers, such as client_golang's
// promhttp, which serves any method:
//
//	http.Handle("/metrics/prometheus", handler.GetHeadOnly(promhttp.Handler()))
func GetHeadOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuseMethod(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseMethod answers a request whose method is neither GET nor HEAD with
// 405 and an Allow header, and reports whether it did.
func refuseMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	w.Header()["Allow"] = hdrAllow
	http.Error(w, "method "+r.Method+" not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
	return true
}
