package bundid

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ozg-broker/eidas-broker/adapters"
	"github.com/ozg-broker/eidas-broker/broker/assurance"
	"github.com/ozg-broker/eidas-broker/broker/saml/samlxml"
	"github.com/ozg-broker/eidas-broker/broker/saml/sp"
	"github.com/ozg-broker/eidas-broker/broker/store"
)

// Adapter is a SAML service provider towards BundID or a Land's
// Servicekonto.
type Adapter struct {
	id, typ, profile string
	name             adapters.Text
	entityID, acsURL string
	base             string
	o                *opened
	peer             *sp.Peer
	policy           sp.Policy
	skew             time.Duration

	levels      map[string]assurance.Level
	levelOrder  []LevelEntry // by level, lowest first
	maxLevel    assurance.Level
	levelAttr   string
	trustLevels map[string]assurance.Level
	subjectAttr string
	methodAttr  string
	attributes  []AttributeEntry
	methods     []MethodEntry
	display     Display

	store store.Store
	now   func() time.Time
	log   *slog.Logger

	mdOnce sync.Once
	md     []byte
	mdErr  error
}

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Router        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*Adapter)(nil)
)

// MountPath is where the broker mounts the adapter's routes beside
// /login/<id>/: our metadata at <MountPath>/metadata, the ACS at
// <MountPath>/acs.
func MountPath(id string) string { return "/saml/" + id }

func newAdapter(c *Config, id string, deps adapters.Deps, o *opened) *Adapter {
	base := strings.TrimSuffix(deps.BaseURL, "/")
	typ := Type
	if c.Profile == ProfileGeneric {
		typ = TypeServicekonto
	}
	name := adapters.Text(c.Name)
	if name.DE == "" {
		name.DE = name.EN
	}
	if name.EN == "" {
		name.EN = name.DE
	}
	a := &Adapter{
		id: id, typ: typ, profile: c.Profile, name: name,
		entityID: c.EntityID, acsURL: base + MountPath(id) + "/acs", base: base, o: o,
		policy: sp.Policy{AllowRSAPKCS1v15: c.Algorithms.AllowRSAPKCS1v15,
			AllowLegacyKeyTransport: c.Algorithms.AllowLegacyKeyTransport, AllowAESCBC: c.Algorithms.AllowAESCBC},
		skew: c.ClockSkew.D(), levels: map[string]assurance.Level{}, levelAttr: c.LevelAttribute,
		trustLevels: c.TrustLevels, subjectAttr: c.SubjectAttribute, methodAttr: c.MethodAttribute,
		attributes: slices.Clone(c.Attributes), methods: slices.Clone(c.AuthnMethods), display: c.Display,
		store: deps.Store, now: deps.Now, log: deps.Logger,
	}
	if a.entityID == "" {
		a.entityID = base + MountPath(id) + "/metadata"
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, l := range c.Levels {
		a.levels[l.Value] = l.Level
		a.levelOrder = append(a.levelOrder, l)
		if l.Level.Notified() && l.Level > a.maxLevel {
			a.maxLevel = l.Level
		}
	}
	slices.SortStableFunc(a.levelOrder, func(x, y LevelEntry) int { return int(x.Level) - int(y.Level) })
	if a.profile == ProfileBundID && len(a.methods) > 0 {
		// BundID can prove no more than its strongest enabled means.
		var best assurance.Level
		for _, m := range a.methods {
			if m.Level.Notified() && m.Level > best {
				best = m.Level
			}
		}
		a.maxLevel = min(a.maxLevel, best)
	}
	prefer := samlxml.BindingPOST
	if c.IdP.Binding == "redirect" {
		prefer = samlxml.BindingRedirect
	}
	hc := deps.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	a.peer = sp.NewPeer(sp.PeerConfig{
		Source: o.source, Anchors: o.anchors, EntityID: c.IdP.EntityID, Interval: c.IdP.Refresh.D(),
		Policy: a.policy, PreferBinding: prefer, CheckURL: o.checkURL, HTTP: hc, Log: a.log, Now: a.now,
	})
	return a
}

// Info implements adapters.Adapter.
func (a *Adapter) Info() adapters.Info {
	return adapters.Info{Type: a.typ, Name: a.name, MaxLevel: a.maxLevel}
}

// EntityID is our entity ID (the SP metadata's).
func (a *Adapter) EntityID() string { return a.entityID }

// ACSURL is our assertion consumer service.
func (a *Adapter) ACSURL() string { return a.acsURL }

// Close stops the metadata refresh.
func (a *Adapter) Close() error {
	a.peer.Close()
	return nil
}

// CheckHealth implements adapters.HealthChecker: the IdP's metadata must
// be loaded and valid.
func (a *Adapter) CheckHealth(context.Context) error {
	_, _, err := a.peer.Usable()
	return err
}

// Refresh reloads the IdP metadata now (demo start-up, tests).
func (a *Adapter) Refresh(ctx context.Context) { a.peer.Refresh(ctx) }

// Routes implements adapters.Router: our metadata and the fixed ACS, which
// forwards each answer to its login's callback.
func (a *Adapter) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, _ *http.Request) {
		md, err := a.SPMetadata()
		if err != nil {
			a.log.Error("SP metadata", "err", err)
			http.Error(w, "metadata unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(md)
	})
	mux.Handle("POST /acs", sp.ForwardACS(a.base, a.log, a.typ))
	return mux
}

// SPMetadata is our SP metadata. BundID wants it without ID and validUntil,
// hence unsigned (it is exchanged out of band); the generic profile
// publishes it signed.
func (a *Adapter) SPMetadata() ([]byte, error) {
	a.mdOnce.Do(func() {
		m := sp.SPMetadata{
			EntityID: a.entityID, ACSURL: a.acsURL, Signer: a.o.signer, EncryptionCert: a.o.encCert,
			NameIDFormats: []string{samlxml.NameIDTransient, samlxml.NameIDPersistent},
		}
		if a.profile == ProfileBundID {
			m.Unsigned = true
		} else {
			m.ID = samlxml.NewID()
		}
		a.md, a.mdErr = m.Build()
	})
	return a.md, a.mdErr
}
