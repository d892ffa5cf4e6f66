// Waiting page of the EUDI wallet login: polls the broker until the wallet
// has answered, then continues with the one-time address it is given.
(function () {
  "use strict";
  var main = document.getElementById("wallet");
  if (!main) { return; }
  var statusURL = main.getAttribute("data-status-url");
  var out = document.getElementById("wallet-status");
  var stopped = false;
  function say(key) { out.textContent = main.getAttribute("data-msg-" + key); }
  function poll() {
    if (stopped) { return; }
    fetch(statusURL, { credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "done" && s.next) {
          stopped = true; say("done"); window.location.assign(s.next);
        } else if (s.state === "elsewhere") {
          stopped = true; say("elsewhere");
        } else if (s.state === "expired") {
          stopped = true; say("expired");
        } else {
          setTimeout(poll, 1500);
        }
      })
      .catch(function () { say("failed"); setTimeout(poll, 4000); });
  }
  setTimeout(poll, 1000);
}());
