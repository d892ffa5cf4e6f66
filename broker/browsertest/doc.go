// Package browsertest drives the login pages in a real Chromium for the
// tests of several packages (the demo wiring, the ELSTER page, the
// eIDAS-Service demo). It is an ordinary package, not a _test file, so that
// the three share one way to find the browser, start it and run steps.
//
// New skips a test when no Chromium is installed, unless
// BROKER_REQUIRE_CHROMIUM=1 is set: then it fails, so that a CI runner
// without the browser can never report the browser tests as passed.
//
// Do exists because of a race between the DevTools protocol and page
// navigation, not because of anything in the pages under test: chromedp
// looks an element up and then acts on it by its node id, and Chromium
// invalidates every node id whenever the document is fetched again (a late
// DOM.documentUpdated after a navigation is enough). An action that lost
// that race fails with "Could not find node with given id" before it has
// done anything, so running it again is safe; Do does exactly that, for
// that class of error only, and names the step that finally failed.
package browsertest
