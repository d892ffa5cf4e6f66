package ratelimit

import (
	"net/http"
	"strconv"
)

// page is the answer to a browser above a limit when no Config.Page is
// set (the broker sets one that renders its branded page in the person's
// language): both languages at once, no script, no external resources
// except the broker's own stylesheet.
const page = `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bitte später erneut versuchen / Please try again later</title>
<link rel="stylesheet" href="/static/broker.css">
</head>
<body>
<main>
<h1 id="busy">Bitte versuchen Sie es in einer Minute erneut</h1>
<p>Gerade erreichen uns sehr viele Anfragen. Ihre Daten sind sicher; es wurde nichts gespeichert.
Bitte warten Sie einen Moment und laden Sie die Seite dann neu.</p>
<h1 lang="en">Please try again in a minute</h1>
<p lang="en">We are receiving a very large number of requests right now. Your data is safe; nothing was stored.
Please wait a moment, then reload the page.</p>
</main>
</body>
</html>
`

func writePage(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(page))
}
