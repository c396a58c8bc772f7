package main

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/keyconform/keyconform/controller/provision"
)

func TestProvisionFlagsRejectBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown mode", []string{"--provision", "sim"}, []string{`-provision "sim": want "none" or "envoy"`}},
		{"unpinned image", []string{"--provision", "envoy", "--envoy-image", "envoyproxy/envoy"}, []string{`-provision=envoy: envoy image "envoyproxy/envoy" is not pinned`}},
		{"xds address without port", []string{"--provision", "envoy", "--envoy-xds-address", "keyconform-controller"}, []string{`xDS address "keyconform-controller": want host:port`}},
		{"service type", []string{"--provision", "envoy", "--envoy-service-type", "ExternalName"}, []string{`service type "ExternalName"`}},
		{"envoy flags without provisioning", []string{"--envoy-image", "envoyproxy/envoy:v1.40.0", "--envoy-service-type", "NodePort"},
			[]string{"-envoy-image has no effect without -provision=envoy", "-envoy-service-type has no effect"}},
		{"static addresses and provisioning", []string{"--provision", "envoy", "--gateway-address", "ns/gw=10.0.0.1"},
			[]string{"-gateway-address and -provision=envoy both set Gateway status addresses"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseFlags(%q) accepted bad input", tc.args)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestProvisionFlagsDefaultsAndValues(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.provision != provisionNone {
		t.Errorf("default -provision %q: the local environment runs its own data planes, want none", cfg.provision)
	}
	cfg, err = parseFlags([]string{"--provision", "envoy", "--envoy-image", "envoyproxy/envoy:v1.36.2",
		"--envoy-xds-address", "xds.example.internal:18123", "--envoy-service-type", "ClusterIP"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := provision.Config{EnvoyImage: "envoyproxy/envoy:v1.36.2", XDSAddress: "xds.example.internal:18123", ServiceType: corev1.ServiceTypeClusterIP}
	if cfg.provision != provisionEnvoy || cfg.envoy != want {
		t.Errorf("got provision %q, %+v; want envoy, %+v", cfg.provision, cfg.envoy, want)
	}
}
