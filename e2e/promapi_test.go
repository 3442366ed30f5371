//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// promAPI is the part of the Prometheus HTTP API (v1) the test reads.
type promAPI struct {
	base   string // http://127.0.0.1:PORT
	client *http.Client
}

func newPromAPI(addr string) *promAPI {
	return &promAPI{base: "http://" + addr, client: &http.Client{Timeout: 5 * time.Second}}
}

// get decodes the data of an API response into data.
func (a *promAPI) get(path string, params url.Values, data any) error {
	u := a.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := a.client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	var envelope struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("GET %s: %s: not an API response: %w", u, resp.Status, err)
	}
	if envelope.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s: %s", u, resp.Status, envelope.ErrorType, envelope.Error)
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		return fmt.Errorf("GET %s: data: %w", u, err)
	}
	return nil
}

// sample is one sample as the API returns it: [unix seconds, "value"].
type sample struct {
	T int64 // milliseconds, as Prometheus stores them
	V float64
}

func (s *sample) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	// The timestamp is seconds with millisecond decimals; parse the
	// decimal text rather than a float so no millisecond is lost.
	sec, frac, _ := strings.Cut(string(pair[0]), ".")
	s1, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return fmt.Errorf("sample time %s: %w", pair[0], err)
	}
	ms := int64(0)
	if frac != "" {
		frac = (frac + "000")[:3]
		if ms, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return fmt.Errorf("sample time %s: %w", pair[0], err)
		}
	}
	s.T = s1*1000 + ms
	var v string
	if err := json.Unmarshal(pair[1], &v); err != nil {
		return fmt.Errorf("sample value %s: %w", pair[1], err)
	}
	s.V, err = strconv.ParseFloat(v, 64)
	return err
}

// series is one element of a query result: a vector has Value (or
// Histogram, for a native histogram), a matrix Values.
type series struct {
	Metric    map[string]string `json:"metric"`
	Value     *sample           `json:"value"`
	Values    []sample          `json:"values"`
	Histogram *histogramSample  `json:"histogram"`
}

// histogramSample is a native histogram sample as the API returns it:
// [unix seconds, {"count": "…", "sum": "…", "buckets": [[boundaries,
// "lower", "upper", "count"], …]}].
type histogramSample struct {
	Count, Sum float64
	Buckets    [][4]json.RawMessage
}

func (h *histogramSample) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	var v struct {
		Count   string               `json:"count"`
		Sum     string               `json:"sum"`
		Buckets [][4]json.RawMessage `json:"buckets"`
	}
	if err := json.Unmarshal(pair[1], &v); err != nil {
		return fmt.Errorf("histogram %s: %w", pair[1], err)
	}
	var err error
	if h.Count, err = strconv.ParseFloat(v.Count, 64); err != nil {
		return fmt.Errorf("histogram count %q: %w", v.Count, err)
	}
	if h.Sum, err = strconv.ParseFloat(v.Sum, 64); err != nil {
		return fmt.Errorf("histogram sum %q: %w", v.Sum, err)
	}
	h.Buckets = v.Buckets
	return nil
}

// query runs an instant query evaluated now.
func (a *promAPI) query(q string) ([]series, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []series `json:"result"`
	}
	if err := a.get("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" && data.ResultType != "matrix" {
		return nil, fmt.Errorf("query %s: result type %q, want vector or matrix", q, data.ResultType)
	}
	return data.Result, nil
}

// activeTarget is a target of /api/v1/targets.
type activeTarget struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
	Health     string            `json:"health"`
}

func (a *promAPI) targets() ([]activeTarget, error) {
	var data struct {
		ActiveTargets []activeTarget `json:"activeTargets"`
	}
	if err := a.get("/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	return data.ActiveTargets, nil
}

// targetMetadata is an element of /api/v1/targets/metadata: a metric family
// as the scrape of one target reported it.
type targetMetadata struct {
	Target map[string]string `json:"target"`
	Metric string            `json:"metric"`
	Type   string            `json:"type"`
}

// metadata returns the metric families Prometheus recorded for the
// targets of job, by instance: family name -> type.
func (a *promAPI) metadata(job string) (map[string]map[string]string, error) {
	var data []targetMetadata
	if err := a.get("/api/v1/targets/metadata", url.Values{"match_target": {fmt.Sprintf("{job=%q}", job)}}, &data); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, m := range data {
		inst := m.Target["instance"]
		if out[inst] == nil {
			out[inst] = map[string]string{}
		}
		out[inst][m.Metric] = m.Type
	}
	return out, nil
}

// instanceKey names a target as its samples are labelled.
type instanceKey struct{ job, instance string }

func (k instanceKey) String() string { return k.job + "/" + k.instance }

// sortedKeys returns the keys of m in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
