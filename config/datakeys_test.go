package config

import (
	"bytes"
	"testing"
)

const (
	keyA = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=" // 32 × 'A'
	keyB = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=" // 32 × 'B'
)

func TestDataKeys(t *testing.T) {
	t.Setenv("BROKER_TEST_SUBJECT", "from-the-environment-32-bytes-long!!")
	keys := base + "keys:\n  subject_secret: ${BROKER_TEST_SUBJECT}\n"
	type want struct {
		id     string
		first  byte
		active bool
	}
	for _, tt := range []struct {
		name, yaml, err string
		keys            []want
	}{
		{
			name: "single data_key is the key default",
			yaml: keys + "  data_key: " + keyA + "\n",
			keys: []want{{"default", 'A', true}},
		},
		{
			name: "one key in the list is active without the mark",
			yaml: keys + "  data_keys:\n    - {id: k1, key: " + keyA + "}\n",
			keys: []want{{"k1", 'A', true}},
		},
		{
			name: "rotation: new key active, old key kept",
			yaml: keys + "  data_keys:\n    - {id: 2026-b, key: " + keyB + ", active: true}\n    - {id: default, key: " + keyA + "}\n",
			keys: []want{{"2026-b", 'B', true}, {"default", 'A', false}},
		},
		{
			name: "key from a file",
			yaml: keys + "  data_keys:\n    - {id: k1, key: {file: ../testdata/config/secrets/data_key}}\n",
			keys: []want{{"k1", 0, true}},
		},
		{
			name: "both forms",
			yaml: keys + "  data_key: " + keyA + "\n  data_keys:\n    - {id: k1, key: " + keyB + "}\n",
			err:  `t.yaml:11: keys.data_keys: set either data_key or data_keys, not both (data_key is the key "default" of data_keys)`,
		},
		{
			name: "none active",
			yaml: keys + "  data_keys:\n    - {id: k1, key: " + keyA + "}\n    - {id: k2, key: " + keyB + "}\n",
			err:  "t.yaml:10: keys.data_keys: mark exactly one key active: true (the one that encrypts)",
		},
		{
			name: "two active",
			yaml: keys + "  data_keys:\n    - {id: k1, key: " + keyA + ", active: true}\n    - {id: k2, key: " + keyB + ", active: true}\n",
			err:  "t.yaml:12: keys.data_keys[1].active: only one data key may be active (keys.data_keys[0] is too)",
		},
		{
			name: "duplicate id",
			yaml: keys + "  data_keys:\n    - {id: k1, key: " + keyA + ", active: true}\n    - {id: k1, key: " + keyB + "}\n",
			err:  `t.yaml:12: keys.data_keys[1].id: duplicate data key ID "k1" (first at line 11)`,
		},
		{
			name: "same key under two ids",
			yaml: keys + "  data_keys:\n    - {id: k1, key: " + keyA + ", active: true}\n    - {id: k2, key: " + keyA + "}\n",
			err:  "t.yaml:12: keys.data_keys[1].key: the same key as keys.data_keys[0]: give each key one ID",
		},
		{
			name: "short key, missing key, bad id",
			yaml: keys + "  data_keys:\n    - {id: k1, key: c2hvcnQ=, active: true}\n    - {id: k2}\n    - {id: \"a b\", key: " + keyB + "}\n",
			err: "t.yaml:11: keys.data_keys[0].key: want 32 random bytes in base64\n" +
				"t.yaml:12: keys.data_keys[1].key: required\n" +
				`t.yaml:13: keys.data_keys[2].id: invalid data key ID "a b": use ` + idRule,
		},
		{
			name: "empty list is no key",
			yaml: keys + "  data_keys: []\n",
			err:  "t.yaml:8: keys.data_key: required",
		},
		{
			name: "unknown field",
			yaml: keys + "  data_keys:\n    - {id: k1, secret: " + keyA + "}\n",
			err:  "t.yaml:11: keys.data_keys[0].secret: unknown key (want one of: id, key, active)\nt.yaml:11: keys.data_keys[0].key: required",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tt.yaml), testRegistry())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Fatalf("Parse error:\n got: %s\nwant: %s", got, tt.err)
			}
			if err != nil {
				return
			}
			list, err := c.Keys.DataKeyList()
			if err != nil || len(list) != len(tt.keys) {
				t.Fatalf("DataKeyList: %d keys, %v", len(list), err)
			}
			for i, w := range tt.keys {
				k := list[i]
				if k.ID != w.id || k.Active != w.active || len(k.Key) != DataKeyLen || (w.first != 0 && !bytes.Equal(k.Key, bytes.Repeat([]byte{w.first}, 32))) {
					t.Errorf("key %d: %s active=%v, want %+v", i, k.ID, k.Active, w)
				}
			}
		})
	}
}
