package config

import (
	"testing"
)

func TestAdminListen(t *testing.T) {
	const notLoopback = `: the admin listener serves metrics and profiling without authentication; ` +
		`bind it to 127.0.0.1 or [::1], or set admin_listen_allow_remote: true and restrict access in the network`
	for _, tt := range []struct {
		name, yaml, want string
		listen           string // AdminListen of a valid file
	}{
		{name: "off by default", yaml: base},
		{name: "loopback v4", yaml: base + "admin_listen: 127.0.0.1:9090\n", listen: "127.0.0.1:9090"},
		{name: "loopback v4 range", yaml: base + "admin_listen: 127.0.0.2:9090\n", listen: "127.0.0.2:9090"},
		{name: "loopback v6", yaml: base + "admin_listen: \"[::1]:9090\"\n", listen: "[::1]:9090"},
		{name: "localhost", yaml: base + "admin_listen: localhost:9090\n", listen: "localhost:9090"},
		{name: "remote allowed", yaml: base + "admin_listen: 10.0.0.5:9090\nadmin_listen_allow_remote: true\n", listen: "10.0.0.5:9090"},
		{name: "all interfaces allowed", yaml: base + "admin_listen: \":9090\"\nadmin_listen_allow_remote: true\n", listen: ":9090"},
		{
			name: "remote refused",
			yaml: base + "admin_listen: 10.0.0.5:9090\n",
			want: `t.yaml:8: admin_listen: "10.0.0.5:9090" is not a loopback address` + notLoopback,
		},
		{
			name: "all interfaces refused",
			yaml: base + "admin_listen: \":9090\"\n",
			want: `t.yaml:8: admin_listen: ":9090" is not a loopback address` + notLoopback,
		},
		{
			name: "unspecified v4 refused",
			yaml: base + "admin_listen: 0.0.0.0:9090\n",
			want: `t.yaml:8: admin_listen: "0.0.0.0:9090" is not a loopback address` + notLoopback,
		},
		{
			name: "host name refused",
			yaml: base + "admin_listen: metrics.internal:9090\n",
			want: `t.yaml:8: admin_listen: "metrics.internal:9090" is not a loopback address` + notLoopback,
		},
		{
			name: "not host:port",
			yaml: base + "admin_listen: 9090\n",
			want: `t.yaml:8: admin_listen: want a string, got an integer (quote it: "9090")`,
		},
		{
			name: "no port",
			yaml: base + "admin_listen: localhost\n",
			want: "t.yaml:8: admin_listen: want host:port (e.g. 127.0.0.1:9090)",
		},
		{
			name: "bad port",
			yaml: base + "admin_listen: 127.0.0.1:99999\n",
			want: "t.yaml:8: admin_listen: want host:port with a port from 0 to 65535",
		},
		{
			name: "same as listen",
			yaml: base + "listen: 127.0.0.1:8080\nadmin_listen: 127.0.0.1:8080\n",
			want: "t.yaml:9: admin_listen: must differ from listen (127.0.0.1:8080): the admin surface never shares the public listener",
		},
		{
			name: "same as the default listen",
			yaml: base + "admin_listen: 127.0.0.1:8080\n",
			want: "t.yaml:8: admin_listen: must differ from listen (127.0.0.1:8080): the admin surface never shares the public listener",
		},
		{
			name: "same port as a listen on every interface",
			yaml: base + "listen: \":8080\"\nadmin_listen: 127.0.0.1:8080\n",
			want: "t.yaml:9: admin_listen: must differ from listen (:8080): the admin surface never shares the public listener",
		},
		{name: "other port", yaml: base + "listen: \":8080\"\nadmin_listen: 127.0.0.1:9090\n", listen: "127.0.0.1:9090"},
		{
			name: "allow_remote alone",
			yaml: base + "admin_listen_allow_remote: true\n",
			want: "t.yaml:8: admin_listen_allow_remote: only allowed with admin_listen",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tt.yaml), testRegistry())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Parse error:\n got: %s\nwant: %s", got, tt.want)
			}
			if err == nil && c.AdminListen != tt.listen {
				t.Fatalf("AdminListen %q, want %q", c.AdminListen, tt.listen)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "example.de": false, "localhost.example.de": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
