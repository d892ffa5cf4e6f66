package sdjwt

import (
	"encoding/json"
	"math"
	"time"
)

func marshalJSON(v any) ([]byte, error) { return json.Marshal(v) }

// NumericDate reads a JWT NumericDate (seconds since the epoch) from a
// decoded claim value.
func NumericDate(v any) (time.Time, bool) { return numericDate(v) }

func numericDate(v any) (time.Time, bool) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false
		}
	case float64:
		f = x
	case int64:
		f = float64(x)
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
