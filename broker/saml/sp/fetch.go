package sp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const (
	// FetchTimeout bounds one metadata download.
	FetchTimeout   = 20 * time.Second
	userAgent      = "eidas-broker-sp/1"
	metadataAccept = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8"
)

// MetadataSource says where a peer's metadata comes from: exactly one of
// Mem (tests, demo), File or URL.
type MetadataSource struct {
	Mem  func(context.Context) ([]byte, error)
	File string
	URL  string
}

// Fetch reads the raw metadata (at most MetadataLimits.MaxBytes). Errors
// wrap ErrMetadataFetch.
func (s MetadataSource) Fetch(ctx context.Context, client *http.Client) ([]byte, error) {
	limit := int64(MetadataLimits.MaxBytes)
	switch {
	case s.Mem != nil:
		return s.Mem(ctx)
	case s.File != "":
		b, err := ReadFileLimited(s.File, limit)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
		}
		return b, nil
	case s.URL == "":
		return nil, fmt.Errorf("%w: no source", ErrMetadataFetch)
	}
	if client == nil {
		client = &http.Client{Timeout: FetchTimeout}
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	// Some nodes refuse requests without a User-Agent.
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", metadataAccept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", ErrMetadataFetch, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataFetch, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMetadataFetch, limit)
	}
	return b, nil
}

// ReadFileLimited reads a regular file of at most limit bytes.
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}
