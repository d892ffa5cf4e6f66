package broker

import (
	"slices"
	"testing"

	"github.com/ozg-broker/eidas-broker/adapters"
)

func TestWithLoginContext(t *testing.T) {
	tx := &transaction{ClientID: "portal", Services: []string{"residence", "library"}}
	req := withLoginContext(adapters.Request{TxID: "t"}, tx)
	if req.ClientID != "portal" || !slices.Equal(req.Services, tx.Services) || req.TxID != "t" {
		t.Fatalf("request = %+v", req)
	}
	req.Services[0] = "changed"
	if tx.Services[0] != "residence" {
		t.Fatal("the adapter's copy aliases the transaction")
	}
}

func TestAMRFor(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{nil, []string{"bundid"}},
		{[]string{"eid"}, []string{"bundid", "eid"}},
		{[]string{"eid", "", "eid", "bundid"}, []string{"bundid", "eid"}},
	} {
		if got := amrFor("bundid", adapters.Identity{AMR: c.in}); !slices.Equal(got, c.want) {
			t.Errorf("amrFor(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
