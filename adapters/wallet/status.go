package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/adapters/wallet/statuslist"
)

var errNoStatus = errors.New("no status reference")

// checkStatus resolves a status claim {"status_list": {"idx", "uri"}}
// (SD-JWT VC and, in the same shape, the mdoc MSO) against the Token
// Status List, verified with the trust list of the credential's format.
func (a *Adapter) checkStatus(ctx context.Context, claim any, format string) error {
	idx, uri, err := statusRef(claim)
	if errors.Is(err, errNoStatus) {
		if a.statusRequired {
			return fmt.Errorf("%w: the PID names no status list", ErrStatus)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStatus, err)
	}
	roots := a.sdRoots
	if format == FormatMDoc {
		roots = a.mdRoots
	}
	v, err := a.status.Status(ctx, uri, idx, roots, format)
	switch {
	case errors.Is(err, statuslist.ErrUnreachable) && a.allowUnreachable:
		a.log.WarnContext(ctx, "pid status list unreachable; accepted by policy", "err", err)
		return nil
	case errors.Is(err, statuslist.ErrUnreachable):
		return adapters.WithReason(adapters.ReasonUpstreamUnreachable, fmt.Errorf("%w: %w", ErrStatus, err))
	case err != nil:
		return fmt.Errorf("%w: %w", ErrStatus, err)
	case v != statuslist.Valid:
		return fmt.Errorf("%w: status %#x", ErrRevoked, v)
	}
	return nil
}

func statusRef(claim any) (int, string, error) {
	if claim == nil {
		return 0, "", errNoStatus
	}
	m, ok := claim.(map[string]any)
	if !ok {
		return 0, "", errors.New("status is not an object")
	}
	sl, ok := m["status_list"].(map[string]any)
	if !ok {
		if len(m) == 0 {
			return 0, "", errNoStatus
		}
		return 0, "", errors.New("status names no status_list")
	}
	uri, _ := sl["uri"].(string)
	var idx int64
	switch v := sl["idx"].(type) {
	case json.Number:
		var err error
		if idx, err = v.Int64(); err != nil {
			return 0, "", errors.New("status_list.idx is not an integer")
		}
	case int64:
		idx = v
	case uint64:
		if v > 1<<40 {
			return 0, "", errors.New("status_list.idx out of range")
		}
		idx = int64(v)
	case float64:
		idx = int64(v)
	default:
		return 0, "", errors.New("status_list.idx missing")
	}
	if uri == "" || idx < 0 || idx > 1<<40 {
		return 0, "", errors.New("status_list uri or idx invalid")
	}
	return int(idx), uri, nil
}
