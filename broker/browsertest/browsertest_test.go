package browsertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/chromedp"
)

func TestIsStaleNode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"protocol error", &cdproto.Error{Code: -32000, Message: "Could not find node with given id"}, true},
		{"wrapped", fmt.Errorf("click: %w", &cdproto.Error{Code: -32000, Message: "No node with given id found"}), true},
		{"context destroyed", errors.New("Execution context was destroyed."), true},
		{"timeout", context.DeadlineExceeded, false},
		{"other protocol error", &cdproto.Error{Code: -32000, Message: "Cannot navigate to invalid URL"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsStaleNode(tc.err); got != tc.want {
				t.Fatalf("IsStaleNode(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestDoRetriesOnlyStaleSteps runs counting actions in a real browser tab:
// a step that loses the node-id race twice is run a third time and the
// sequence goes on; any other error stops it at once and is named by step.
func TestDoRetriesOnlyStaleSteps(t *testing.T) {
	ctx := New(t)
	counter := func(failures int, err error) (chromedp.Action[chromedp.Void], *int) {
		n := new(int)
		return chromedp.Func(func(context.Context, *chromedp.Target) error {
			*n++
			if *n <= failures {
				return err
			}
			return nil
		}), n
	}
	stale := &cdproto.Error{Code: -32000, Message: "Could not find node with given id"}

	first, firstRuns := counter(2, stale)
	second, secondRuns := counter(0, nil)
	if err := Do(ctx, first, second); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if *firstRuns != 3 || *secondRuns != 1 {
		t.Fatalf("runs = %d, %d; want 3, 1", *firstRuns, *secondRuns)
	}

	always, alwaysRuns := counter(100, stale)
	if err := Do(ctx, always); err == nil || *alwaysRuns != staleAttempts {
		t.Fatalf("endless staleness: err %v after %d runs, want an error after %d", err, *alwaysRuns, staleAttempts)
	}

	boom := errors.New("boom")
	ok, _ := counter(0, nil)
	failing, failingRuns := counter(100, boom)
	err := Do(ctx, ok, failing)
	if !errors.Is(err, boom) || *failingRuns != 1 {
		t.Fatalf("other error: err %v after %d runs, want boom after 1", err, *failingRuns)
	}
	if got, want := err.Error(), "step 2 of 2: boom (browser at about:blank []: )"; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

// TestDoDescribesThePageAfterATimeout: a wait that runs out of time names
// the page the browser is on, read after the test's deadline has passed.
func TestDoDescribesThePageAfterATimeout(t *testing.T) {
	ctx := New(t)
	if err := Do(ctx, chromedp.Navigate(`data:text/html,<title>Fehler</title><h1>Diese Anmeldung ist abgelaufen</h1>`)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err := Do(short, chromedp.WaitVisible("#never"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	for _, want := range []string{"step 1 of 1", "[Fehler]", "Diese Anmeldung ist abgelaufen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
