package assurance

import (
	"errors"
	"testing"
)

func TestMappings(t *testing.T) {
	tests := []struct {
		level             Level
		name, uri, bsiURI string
		qaa               int
	}{
		{Low, "low", "http://eidas.europa.eu/LoA/low", "http://bsi.bund.de/eID/LoA/normal", 2},
		{Substantial, "substantial", "http://eidas.europa.eu/LoA/substantial", "http://bsi.bund.de/eID/LoA/substantiell", 3},
		{High, "high", "http://eidas.europa.eu/LoA/high", "http://bsi.bund.de/eID/LoA/hoch", 4},
		{NotNotifiedLow, "notnotified-low", "http://eidas.europa.eu/NotNotified/LoA/low", "", 0},
		{NotNotifiedSubstantial, "notnotified-substantial", "http://eidas.europa.eu/NotNotified/LoA/substantial", "", 0},
		{NotNotifiedHigh, "notnotified-high", "http://eidas.europa.eu/NotNotified/LoA/high", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.level.String(); got != tt.name {
				t.Errorf("String = %q", got)
			}
			if got := tt.level.URI(); got != tt.uri {
				t.Errorf("URI = %q", got)
			}
			if got := tt.level.BSIURI(); got != tt.bsiURI {
				t.Errorf("BSIURI = %q", got)
			}
			if got := tt.level.STORKQAA(); got != tt.qaa {
				t.Errorf("STORKQAA = %d", got)
			}
			if l, err := ParseURI(tt.uri); err != nil || l != tt.level {
				t.Errorf("ParseURI = %v, %v", l, err)
			}
			if l, err := ParseName(tt.name); err != nil || l != tt.level {
				t.Errorf("ParseName = %v, %v", l, err)
			}
			if l, err := Parse(tt.uri); err != nil || l != tt.level {
				t.Errorf("Parse(uri) = %v, %v", l, err)
			}
			if tt.bsiURI != "" {
				if l, err := ParseBSIURI(tt.bsiURI); err != nil || l != tt.level {
					t.Errorf("ParseBSIURI = %v, %v", l, err)
				}
				if l, err := Parse(tt.bsiURI); err != nil || l != tt.level {
					t.Errorf("Parse(bsi) = %v, %v", l, err)
				}
			}
			if tt.qaa != 0 {
				if l, err := ParseSTORKQAA(tt.qaa); err != nil || l != tt.level {
					t.Errorf("ParseSTORKQAA = %v, %v", l, err)
				}
			}
			b, _ := tt.level.MarshalText()
			var back Level
			if err := back.UnmarshalText(b); err != nil || back != tt.level {
				t.Errorf("text round trip = %v, %v", back, err)
			}
		})
	}
}

func TestParseRefusesUnknown(t *testing.T) {
	for _, s := range []string{"", "HIGH", "http://eidas.europa.eu/LoA/high/", "http://eidas.europa.eu/LoA/medium",
		"http://bsi.bund.de/eID/LoA/Hoch", "unspecified", "4"} {
		if _, err := Parse(s); !errors.Is(err, ErrUnknown) {
			t.Errorf("Parse(%q) = %v, want ErrUnknown", s, err)
		}
	}
	for _, n := range []int{0, 1, 5, -1} {
		if _, err := ParseSTORKQAA(n); !errors.Is(err, ErrUnknown) {
			t.Errorf("ParseSTORKQAA(%d) accepted", n)
		}
	}
	if _, err := ParseBSIURI("http://eidas.europa.eu/LoA/high"); err == nil {
		t.Error("ParseBSIURI accepted an eIDAS URI")
	}
	if _, err := ParseURI("http://bsi.bund.de/eID/LoA/hoch"); err == nil {
		t.Error("ParseURI accepted a BSI URI")
	}
	var l Level
	if err := l.UnmarshalText([]byte("medium")); err == nil {
		t.Error("UnmarshalText accepted medium")
	}
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		have, floor Level
		want        bool
	}{
		{High, High, true}, {High, Substantial, true}, {High, Low, true},
		{Substantial, High, false}, {Substantial, Substantial, true}, {Low, Substantial, false},
		{Unspecified, Low, false}, {Unspecified, Unspecified, false}, {Low, Unspecified, true},
		// Not-notified levels never satisfy a notified floor, whatever their name says.
		{NotNotifiedHigh, Low, false}, {NotNotifiedHigh, High, false},
		{NotNotifiedHigh, NotNotifiedHigh, true}, {NotNotifiedHigh, NotNotifiedLow, false},
		{High, NotNotifiedLow, false},
	}
	for _, tt := range tests {
		if got := tt.have.Satisfies(tt.floor); got != tt.want {
			t.Errorf("%v.Satisfies(%v) = %v, want %v", tt.have, tt.floor, got, tt.want)
		}
	}
}

func TestMaxNeverLowersAFloor(t *testing.T) {
	tests := []struct{ a, b, want Level }{
		{Low, High, High}, {High, Low, High}, {Substantial, Substantial, Substantial},
		{Unspecified, Substantial, Substantial}, {Substantial, Unspecified, Substantial},
		{High, NotNotifiedLow, High}, {Unspecified, NotNotifiedHigh, Unspecified},
	}
	for _, tt := range tests {
		if got := Max(tt.a, tt.b); got != tt.want {
			t.Errorf("Max(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestOrderOfNotifiedLevels(t *testing.T) {
	ls := NotifiedLevels()
	if len(ls) != 3 || !(ls[0] < ls[1] && ls[1] < ls[2]) || !ls[0].Notified() || NotNotifiedHigh.Notified() {
		t.Fatalf("notified levels out of order: %v", ls)
	}
}
