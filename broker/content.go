package broker

import (
	"html/template"
	"net/http"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
)

// adapterContent shows an adapter's page content in the broker's layout.
// html/template does not escape it: it is the adapter's own rendered
// HTML. The policy is loosened only by what the adapter declared
// (h.Needs), for this page; the transaction was renewed by the start that
// led here, so the expiry warning counts from now.
func (p *pages) adapterContent(w http.ResponseWriter, r *http.Request, tx *transaction, h adapters.Handoff) {
	title := adapters.Text{DE: h.Title, EN: h.Title}
	data := p.view(r, tx, title, map[string]any{"Content": template.HTML(h.Content), "Needs": h.Needs})
	data["SameOriginReferrer"] = h.Needs.SameOriginReferrer
	p.expiryHook(data, tx, p.s.now())
	p.render(w, http.StatusOK, "adapter.html", data)
}

var titleBusy = adapters.Text{DE: "Bitte später erneut versuchen", EN: "Please try again later"}

// busy is the answer to a browser above a rate limit or while the broker
// sheds load (see ratelimit.Config.Page): branded, in the person's
// language, without a language switch (its link would repeat the refused
// request without its query).
func (p *pages) busy(w http.ResponseWriter, r *http.Request, status int, retry time.Duration) {
	data := p.view(r, nil, titleBusy, map[string]any{"Seconds": int(retry / time.Second)})
	delete(data, "LangBase")
	p.render(w, status, "busy.html", data)
}
