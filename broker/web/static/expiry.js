// Warns before a login expires and offers more time (WCAG 2.2.1 Timing
// Adjustable). The page says how many seconds are left when it was served
// (relative, so a wrong clock in the browser does not matter) and when to
// warn. The warning goes into a status region (announced by screen
// readers without taking the focus away from what the person is doing);
// the button asks the broker to renew the login, which only the browser
// that started it can. Once the time is over, the page says so and shows
// the way back to the portal. Without JavaScript the page's static hint
// on the time limit stays.
(function () {
  "use strict";
  var box = document.getElementById("expiry");
  if (!box || !window.fetch) { return; }
  var status = document.getElementById("expiry-status");
  var more = document.getElementById("expiry-more");
  var button = document.getElementById("expiry-extend");
  var back = document.getElementById("expiry-back");
  var warnBefore = parseInt(box.getAttribute("data-warn"), 10) * 1000;
  var deadline = 0;
  var timer = 0;

  function msg(key) { return box.getAttribute("data-msg-" + key) || ""; }

  function clock(t) {
    return new Date(t).toLocaleTimeString(box.getAttribute("data-lang") || "de", { hour: "2-digit", minute: "2-digit" });
  }

  function schedule(seconds) {
    deadline = Date.now() + seconds * 1000;
    window.clearTimeout(timer);
    tick();
  }

  function tick() {
    var left = deadline - Date.now();
    if (left <= 0) {
      expired();
      return;
    }
    if (left <= warnBefore) {
      warn();
      timer = window.setTimeout(tick, Math.min(left, 1000));
      return;
    }
    timer = window.setTimeout(tick, left - warnBefore);
  }

  function warn() {
    if (box.classList.contains("warning")) { return; }
    box.classList.add("active", "warning");
    status.textContent = msg("warn").replace("{time}", clock(deadline));
    more.hidden = false;
    button.disabled = false;
  }

  function expired() {
    box.classList.add("active", "warning", "expired");
    status.textContent = msg("expired");
    more.hidden = true;
    if (back) { back.hidden = false; }
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    fetch(box.getAttribute("data-extend"), { method: "POST", credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        // 404: the login is gone. Anything else (a browser that did not
        // start the login gets 403, an outage 503) leaves it as it is.
        if (r.status === 404) { return { gone: true }; }
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(function (answer) {
        if (answer.gone || typeof answer.expires_in !== "number") {
          deadline = 0;
          expired();
          return;
        }
        box.classList.remove("warning");
        more.hidden = true;
        status.textContent = msg("extended");
        schedule(answer.expires_in);
      })
      .catch(function () {
        status.textContent = msg("failed");
        button.disabled = false;
      });
  });

  schedule(parseInt(box.getAttribute("data-expires-in"), 10) || 0);
}());
