package main

import (
	"testing"
	"time"

	"github.com/ozg-broker/eidas-broker/broker/store/memory"
	redisstore "github.com/ozg-broker/eidas-broker/broker/store/redis"
	"github.com/ozg-broker/eidas-broker/config"

	"github.com/redis/go-redis/v9"
)

// TestLimitsConfig: the file's limits reach the runtime config (0 turns a
// limit off, absent means the default), and the Redis store shares its
// client with the counters.
func TestLimitsConfig(t *testing.T) {
	zero, ten := 0, 10
	rs, err := redisstore.NewFromOptions(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}}, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	tests := []struct {
		name                         string
		in                           config.Limits
		redis                        bool
		wantAddr, wantClient, wantIn int
	}{
		{"absent: defaults", config.Limits{}, false, 0, 0, 0},
		{"zero turns off", config.Limits{PerAddress: &zero, PerClient: &zero, MaxInFlight: &zero}, false, -1, -1, -1},
		{"values", config.Limits{PerAddress: &ten, PerClient: &ten, MaxInFlight: &ten, Window: config.Duration(time.Second)}, true, 10, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rc = limitsConfig(tt.in, memory.New())
			if tt.redis {
				rc = limitsConfig(tt.in, rs)
			}
			if rc.PerAddress != tt.wantAddr || rc.PerClient != tt.wantClient || rc.MaxInFlight != tt.wantIn {
				t.Errorf("got %d/%d/%d", rc.PerAddress, rc.PerClient, rc.MaxInFlight)
			}
			if (rc.NewCounter != nil) != tt.redis {
				t.Errorf("shared counters = %v, want %v", rc.NewCounter != nil, tt.redis)
			}
		})
	}
}
