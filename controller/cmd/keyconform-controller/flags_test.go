package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestParseFlagsRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		// want are fragments of the error: what is wrong and what to do.
		want []string
	}{
		{"xds address without port", []string{"--xds-address", "127.0.0.1"}, []string{`-xds-address "127.0.0.1": want host:port`}},
		{"xds address port zero", []string{"--xds-address", ":0"}, []string{`-xds-address ":0": a fixed port is needed`}},
		{"xds address port out of range", []string{"--xds-address", ":70000"}, []string{`port "70000" is not a number from 0 to 65535`}},
		{"metrics address bad host", []string{"--metrics-address", "no_such host:80"}, []string{`-metrics-address`, `neither an IP address nor a host name`}},
		{"health address named port", []string{"--health-address", "localhost:http"}, []string{`-health-address "localhost:http": port "http"`}},
		{"controller name without path", []string{"--controller-name", "keyconform.dev"}, []string{`controller name "keyconform.dev": want <lowercase domain>/<path>`}},
		{"controller name upper-case domain", []string{"--controller-name", "Keyconform.dev/x"}, []string{`controller name "Keyconform.dev/x"`}},
		{"gateway class not a DNS name", []string{"--gateway-class", "Bad_Class"}, []string{`GatewayClass name "Bad_Class"`}},
		{"gateway address without =", []string{"--gateway-address", "ns/gw"}, []string{`want NAMESPACE/NAME=ADDRESS`}},
		{"gateway address without namespace", []string{"--gateway-address", "gw=1.2.3.4"}, []string{`want NAMESPACE/NAME=ADDRESS`}},
		{"gateway address with a port", []string{"--gateway-address", "ns/gw=127.0.0.1:8080"}, []string{`address "127.0.0.1:8080" is neither an IP address nor a host name (no port`}},
		{"gateway address bad namespace", []string{"--gateway-address", "NS/gw=127.0.0.1"}, []string{`namespace "NS"`}},
		{"log level", []string{"--log-level", "loud"}, []string{`-log-level "loud": want debug, info, warn or error`}},
		{"unknown flag", []string{"--xds-port", "1"}, []string{"flag provided but not defined: -xds-port"}},
		{"positional argument", []string{"extra"}, []string{`unexpected arguments ["extra"]`}},
		{"every problem at once", []string{"--xds-address", "x", "--log-level", "loud"}, []string{"-xds-address", "-log-level"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := parseFlags(tc.args, &out)
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

func TestParseFlagsDefaultsAndValues(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.controllerName != "keyconform.dev/controller" || cfg.gatewayClass != "kgateway" || cfg.xdsAddress != "127.0.0.1:18000" {
		t.Errorf("defaults: %+v", cfg)
	}

	cfg, err = parseFlags([]string{
		"--kubeconfig", "/tmp/kc", "--xds-address", ":18000", "--metrics-address", "0", "--health-address", "[::1]:9000",
		"--gateway-address", "kgateway-system/http=127.0.0.1",
		"--gateway-address", "kgateway-system/http=gw.example.com",
		"--log-level", "debug",
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := cfg.gatewayAddrs.source()(types.NamespacedName{Namespace: "kgateway-system", Name: "http"})
	if len(addrs) != 2 || addrs[0].Value != "127.0.0.1" || *addrs[0].Type != gwv1.IPAddressType ||
		addrs[1].Value != "gw.example.com" || *addrs[1].Type != gwv1.HostnameAddressType {
		t.Errorf("gateway addresses: %+v", addrs)
	}
	if got := cfg.gatewayAddrs.source()(types.NamespacedName{Namespace: "other", Name: "http"}); got != nil {
		t.Errorf("a Gateway without flags got addresses %+v", got)
	}
}

func TestRunExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--xds-address", "nope"}, exitUsage, "Run keyconform-controller -h for usage."},
		{[]string{"-h"}, exitOK, "Usage: keyconform-controller [flags]"},
		{[]string{"--kubeconfig", "/nonexistent/kubeconfig", "--metrics-address", "0", "--health-address", "0"}, exitError, "loading -kubeconfig /nonexistent/kubeconfig"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		if code := run(context.Background(), tc.args, &out); code != tc.code {
			t.Errorf("run(%q) = %d, want %d; output:\n%s", tc.args, code, tc.code, out.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("run(%q) output lacks %q:\n%s", tc.args, tc.want, out.String())
		}
	}
}

// The process itself exits 2 on a usage error: the test binary re-runs
// itself as the command.
func TestProcessExitsTwoOnUsageError(t *testing.T) {
	if os.Getenv("KEYCONFORM_CONTROLLER_MAIN") == "1" {
		os.Args = append([]string{"keyconform-controller"}, strings.Fields(os.Getenv("KEYCONFORM_CONTROLLER_ARGS"))...)
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessExitsTwoOnUsageError$")
	cmd.Env = append(os.Environ(), "KEYCONFORM_CONTROLLER_MAIN=1", "KEYCONFORM_CONTROLLER_ARGS=--gateway-class Bad_Class")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
		t.Fatalf("exit: %v, want code %d; output:\n%s", err, exitUsage, out)
	}
	if !strings.Contains(string(out), `GatewayClass name "Bad_Class"`) {
		t.Errorf("output lacks the reason:\n%s", out)
	}
}
