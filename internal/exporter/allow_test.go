package exporter

import (
	"net/netip"
	"testing"
)

func TestAllowlist(t *testing.T) {
	l, err := parseAllowlist(&AllowedTargets{
		Hosts: []string{"*.svc.cluster.local", "Metrics.Example.com."},
		CIDRs: []string{"10.0.0.0/8", "fd00::/8"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"metrics.example.com":          true,
		"METRICS.example.com.":         true,
		"a.metrics.example.com":        false,
		"emitter.ns.svc.cluster.local": true,
		"svc.cluster.local":            false, // *.x matches names under x, not x
		"evilsvc.cluster.local":        false,
		"svc.cluster.local.evil.com":   false,
		"10.1.2.3":                     false, // addresses go in cidrs
	} {
		if got := l.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
	for addr, want := range map[string]bool{
		"10.1.2.3":         true,
		"::ffff:10.1.2.3":  true, // an IPv4-mapped address is the IPv4 one
		"11.0.0.1":         false,
		"127.0.0.1":        false,
		"fd12::1":          true,
		"::1":              false,
		"169.254.169.254":  false,
		"::ffff:127.0.0.1": false,
	} {
		if got := l.addrAllowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("addrAllowed(%s) = %v, want %v", addr, got, want)
		}
	}
	anyHost, err := parseAllowlist(&AllowedTargets{Hosts: []string{"*"}})
	if err != nil || !anyHost.hostAllowed("anything.example") || !anyHost.addrAllowed(netip.MustParseAddr("192.0.2.1")) {
		t.Errorf("hosts [*] without cidrs allows any target: %v", err)
	}
}
