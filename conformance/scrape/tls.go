package scrape

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the files a TLS client configuration is built from, as
// Prometheus's tls_config does. Every field is optional.
type TLSFiles struct {
	// CAFile is a PEM bundle of authorities to trust instead of the system
	// roots.
	CAFile string
	// CertFile and KeyFile are the client certificate and its key (PEM),
	// for servers that require mutual TLS. Both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// ServerName overrides the name the certificate is verified against.
	ServerName string
	// ReadFile reads the files; nil means os.ReadFile. A caller that
	// bounds what it reads (a CA file pointed at /dev/zero must not fill
	// memory) passes its own reader.
	ReadFile func(path string) ([]byte, error)
}

// Config builds the TLS configuration. Errors name the file at fault.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: f.InsecureSkipVerify, //nolint:gosec // the user asked for it by name
		ServerName:         f.ServerName,
	}
	readFile := f.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	if f.CAFile != "" {
		pem, err := readFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.CertFile != "" && f.KeyFile != "":
		certPEM, err := readFile(f.CertFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		keyPEM, err := readFile(f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client key: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s with key %s: %w", f.CertFile, f.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case f.CertFile != "":
		return nil, errors.New("a client certificate file needs its key file too")
	case f.KeyFile != "":
		return nil, errors.New("a client key file needs its certificate file too")
	}
	return cfg, nil
}
