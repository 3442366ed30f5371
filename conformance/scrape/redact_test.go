package scrape_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://127.0.0.1:9100/metrics", "http://127.0.0.1:9100/metrics"},
		{"http://user:s3cret@host:9100/metrics?x=1", "http://user:xxxxx@host:9100/metrics?x=1"},
		{"https://user@host/metrics", "https://user@host/metrics"},
		{"http://user:s3cret@host", "http://user:xxxxx@host"},
		// Unparsable, and still redacted: a bad escape, no scheme, a
		// space, an '@' in the password.
		{"http://user:s3%zzret@host/metrics", "http://xxxxx@host/metrics"},
		{"user:s3cret@host:9090", "xxxxx@host:9090"},
		{"http://us er:s3cret@host/m", "http://xxxxx@host/m"},
		{"http://user:s3@cret@host/m", "http://user:xxxxx@host/m"},
		{"not a url", "not a url"},
		{"http://us er:pa?ss@host/m", "http://xxxxx@host/m"},
		// Query parameters that look like credentials, in their order,
		// with the rest as written.
		{"http://h/metrics?token=abc&module=x", "http://h/metrics?token=xxxxx&module=x"},
		{"http://h/metrics?api_key=abc&Password=p&x=1%2F2", "http://h/metrics?api_key=xxxxx&Password=xxxxx&x=1%2F2"},
		{"https://b.s3/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00d#part", "https://b.s3/o?X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx#part"},
		{"http://user:pw@h/m?sig=abc", "http://user:xxxxx@h/m?sig=xxxxx"},
		{"http://h/m?api%5Fkey=abc&access_token=t&apikey=k", "http://h/m?api%5Fkey=xxxxx&access_token=xxxxx&apikey=xxxxx"},
		{"user:s3cret@host:9090?token=t", "xxxxx@host:9090?token=xxxxx"},
		{"http://h/m?module=deploy&token=&flag", "http://h/m?module=deploy&token=&flag"},
		// A URL in a query value, as an exporter's /probe URL carries its
		// target, is redacted in turn.
		{"http://exporter:9465/probe?target=http%3A%2F%2Fh%2Fm%3Ftoken%3Dabc&module=deploy",
			"http://exporter:9465/probe?target=http%3A%2F%2Fh%2Fm%3Ftoken%3Dxxxxx&module=deploy"},
		{"http://exporter:9465/probe?target=http%3A%2F%2Fu%3Apw%40h%2Fm&module=deploy",
			"http://exporter:9465/probe?target=http%3A%2F%2Fu%3Axxxxx%40h%2Fm&module=deploy"},
		{"http://exporter:9465/probe?target=http%3A%2F%2Fh%2Fm&module=deploy", "http://exporter:9465/probe?target=http%3A%2F%2Fh%2Fm&module=deploy"},
	} {
		if got := scrape.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A URL's password never appears in an error, a redirect chain or the
// facts handed to the engine.
func TestErrorsRedactTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	_, err = scrape.Get(context.Background(), nil, "http://user:s3cret@"+dead+"/metrics", scrape.Options{})
	wantError(t, err, "http://user:xxxxx@"+dead+"/metrics", scrape.KindConnect, "connection refused")

	loop := newServer(t, scrapetest.RedirectLoop(), false)
	withCreds := strings.Replace(loop.URL, "http://", "http://user:s3cret@", 1) + "/metrics"
	_, err = scrape.Get(context.Background(), nil, withCreds, scrape.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("redirect loop error: %v", err)
	}

	good := newServer(t, scrapetest.Good(), false)
	in, err := scrape.Get(context.Background(), nil, strings.Replace(good.URL, "http://", "http://user:s3cret@", 1)+"/metrics", scrape.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(in.HTTP.URL, "s3cret") || !strings.Contains(in.HTTP.URL, "user:xxxxx@") {
		t.Errorf("HTTPFacts.URL = %q", in.HTTP.URL)
	}
}

// Scrape reports every redirect it followed; an error after a redirect
// names where the scrape was sent.
func TestRedirectsAreRecorded(t *testing.T) {
	good := newServer(t, scrapetest.Good(), false)
	mux := http.NewServeMux()
	mux.Handle("/old", http.RedirectHandler("/metrics", http.StatusMovedPermanently))
	mux.Handle("/metrics", http.RedirectHandler(good.URL+"/metrics", http.StatusFound))
	front := newServer(t, mux, false)

	res, err := scrape.Scrape(context.Background(), nil, front.URL+"/old", scrape.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []scrape.Redirect{{Status: 301, URL: front.URL + "/metrics"}, {Status: 302, URL: good.URL + "/metrics"}}
	if fmt.Sprint(res.Redirects) != fmt.Sprint(want) {
		t.Errorf("redirects %v, want %v", res.Redirects, want)
	}
	if string(res.Input.Body) != scrapetest.Text {
		t.Errorf("body %q", res.Input.Body)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/metrics"
	ln.Close()
	toDead := newServer(t, http.RedirectHandler(dead, http.StatusFound), false)
	_, err = scrape.Scrape(context.Background(), nil, toDead.URL+"/metrics", scrape.Options{})
	se := wantError(t, err, toDead.URL+"/metrics (302 to "+dead+")", scrape.KindConnect, "connection refused")
	if len(se.Redirects) != 1 || se.Redirects[0].URL != dead {
		t.Errorf("error's redirects %v", se.Redirects)
	}
}

// A redirect from https to http is refused: following it would send the
// request, and any credentials, in cleartext.
func TestHTTPSToHTTPRedirectRefused(t *testing.T) {
	var plainRequests atomic.Int64
	plain := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainRequests.Add(1)
		scrapetest.Good().ServeHTTP(w, r)
	}), false)
	secure := newServer(t, http.RedirectHandler(plain.URL+"/metrics", http.StatusFound), true)
	client := scrape.NewClient(secure.Client().Transport.(*http.Transport).TLSClientConfig)
	url := secure.URL + "/metrics"
	_, err := scrape.Get(context.Background(), client, url, scrape.Options{BearerToken: "t0ken"})
	wantError(t, err, url, scrape.KindRedirect,
		`redirect from https to `+plain.URL+`/metrics refused: it would send the request and its credentials in cleartext \(scrape the http:// URL itself if that is intended\)$`)
	if n := plainRequests.Load(); n != 0 {
		t.Errorf("the http server got %d requests", n)
	}
}

// A URL that does not parse is named without its user information, and
// the parser's complaint, which quotes the bad part, is not repeated.
func TestInvalidURLWithCredentials(t *testing.T) {
	_, err := scrape.Get(context.Background(), nil, "http://user:s3%zzret@127.0.0.1:1/metrics", scrape.Options{})
	wantError(t, err, "http://xxxxx@127.0.0.1:1/metrics", scrape.KindRequest, `invalid URL: it does not parse`)
	if strings.Contains(err.Error(), "zz") {
		t.Errorf("error repeats part of the password: %v", err)
	}
}

// With RejectStatus a non-2xx answer is an error, as Prometheus fails such
// a scrape, and its body is not read; without, it goes to the engine.
func TestRejectStatus(t *testing.T) {
	for _, code := range []int{401, 403, 404, 500, 503} {
		url := serve(t, scrapetest.Serve(code, scrapetest.ContentTypeText, "error page\n"))
		res, err := scrape.Scrape(context.Background(), nil, url, scrape.Options{RejectStatus: true})
		wantError(t, err, url, scrape.KindStatus, fmt.Sprintf(`: server returned HTTP status %d %s$`, code, http.StatusText(code)))
		if res.Input.HTTP == nil || res.Input.HTTP.StatusCode != code || res.Input.Body != nil {
			t.Errorf("%d: input %+v", code, res.Input)
		}
		in, err := scrape.Get(context.Background(), nil, url, scrape.Options{})
		if err != nil || in.HTTP.StatusCode != code || string(in.Body) != "error page\n" {
			t.Errorf("%d without RejectStatus: %v, %+v", code, err, in)
		}
	}
	url := serve(t, scrapetest.Serve(204, scrapetest.ContentTypeText, ""))
	if _, err := scrape.Get(context.Background(), nil, url, scrape.Options{RejectStatus: true}); err != nil {
		t.Errorf("204 rejected: %v", err)
	}
}
