package envoybootstrap

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Args
	}{{
		name: "separate values, short and long flags",
		args: []string{"-c", "/etc/envoy/envoy.yaml", "--service-node", "pod-1", "--service-cluster", "gw", "--service-zone", "z1", "-l", "debug"},
		want: Args{ConfigPath: "/etc/envoy/envoy.yaml", ServiceNode: "pod-1", ServiceCluster: "gw", ServiceZone: "z1", LogLevel: "debug"},
	}, {
		name: "binary as the first argument",
		args: []string{"/usr/local/bin/envoy", "--config-path", "/b.yaml"},
		want: Args{ConfigPath: "/b.yaml"},
	}, {
		name: "envoy on the PATH as the first argument",
		args: []string{"envoy", "--config-yaml", "node: {id: a}"},
		want: Args{ConfigYAML: "node: {id: a}"},
	}, {
		// TCLAP splits a flag from its value at the first space of one
		// argument (Arg::trimFlag with Envoy's delimiter ' ').
		name: "flag and value in one argument",
		args: []string{"--config-path /b.yaml", "--log-level info"},
		want: Args{ConfigPath: "/b.yaml", LogLevel: "info"},
	}, {
		name: "a value that starts with a dash is still the value",
		args: []string{"--service-node", "-odd-name-", "--config-path", "/b.yaml"},
		want: Args{ServiceNode: "-odd-name-", ConfigPath: "/b.yaml"},
	}, {
		name: "unknown static fields allowed, deprecated alias too",
		args: []string{"--allow-unknown-fields", "-c", "/b.yaml"},
		want: Args{ConfigPath: "/b.yaml", AllowUnknownStaticFields: true},
	}, {
		name: "mode serve and restart epoch 0 are the defaults",
		args: []string{"--mode", "serve", "--restart-epoch", "0", "-c", "/b.yaml"},
		want: Args{ConfigPath: "/b.yaml", Ignored: []string{`--restart-epoch "0": ` + whyHotRst}},
	}, {
		name: "everything after -- is ignored, as TCLAP's ignore_rest",
		args: []string{"-c", "/b.yaml", "--", "--mode", "validate"},
		want: Args{ConfigPath: "/b.yaml", Ignored: []string{"--: Envoy (TCLAP's ignore_rest) ignores the 2 argument(s) after it"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseArgs(%q) (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

// Every flag that does not change the sim's traffic is accepted, and listed
// with its reason.
func TestParseArgsIgnoredFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--log-format", "- %v"}, {"--log-format-escaped"}, {"--log-path", "/dev/stderr"},
		{"--log-stacktrace-single-entry"}, {"--skip-deprecated-logs"}, {"--enable-fine-grain-logging"},
		{"--component-log-level", "upstream:debug,misc:error"},
		{"--file-flush-interval-msec", "1000"}, {"--file-flush-min-size-kb", "64"},
		{"--base-id", "7"}, {"--use-dynamic-base-id"}, {"--base-id-path", "/tmp/id"}, {"--disable-hot-restart"},
		{"--restart-epoch", "0"}, {"--skip-hot-restart-on-no-parent"}, {"--skip-hot-restart-parent-stats"},
		{"--socket-path", "@envoy"}, {"--socket-mode", "644"}, {"--socket-mode", "not-octal"}, {"--parent-shutdown-time-s", "90"},
		{"--drain-time-s", "60"}, {"--drain-strategy", "immediate"}, {"--drain-strategy", "gradual"},
		{"--concurrency", "2"}, {"--cpuset-threads"}, {"--enable-core-dump"}, {"--enable-mutex-tracing"},
		{"--admin-address-path", "/tmp/admin"}, {"--stats-tag", "a:b", "--stats-tag", "c:b:_-d"},
		{"--ignore-unknown-dynamic-fields"}, {"--local-address-ip-version", "v4"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got, err := ParseArgs(args)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Ignored) == 0 {
				t.Fatalf("Ignored is empty")
			}
			for _, ig := range got.Ignored {
				flag, why, ok := strings.Cut(ig, ": ")
				if !ok || why == "" || !strings.HasPrefix(flag, args[0]) {
					t.Errorf("Ignored entry %q: want %q with a reason", ig, args[0]+": <reason>")
				}
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // substrings of the error
	}{
		{[]string{"--mode", "validate"}, []string{"--mode validate", "drop the flag"}},
		{[]string{"--mode", "init_only"}, []string{"--mode init_only"}},
		{[]string{"--mode", "bogus"}, []string{"--mode", "unknown mode 'bogus'"}},
		{[]string{"--restart-epoch", "1"}, []string{"--restart-epoch", "use 0"}},
		{[]string{"--hot-restart-version"}, []string{"--hot-restart-version", "exits"}},
		{[]string{"--version"}, []string{"--version", "exits"}},
		{[]string{"--help"}, []string{"--help"}},
		{[]string{"-h"}, []string{"-h"}},
		{[]string{"--disable-extensions", "envoy.filters.http.router"}, []string{"--disable-extensions"}},
		{[]string{"--reject-unknown-dynamic-fields"}, []string{"--reject-unknown-dynamic-fields"}},
		{[]string{"--local-address-ip-version", "v6"}, []string{"--local-address-ip-version v6", "IPv4"}},
		{[]string{"--local-address-ip-version", "v5"}, []string{"unknown IP address version 'v5'"}},
		{[]string{"--log-level=info"}, []string{`"--log-level=info"`, "never at '='", "--log-level"}},
		{[]string{"--log-level", "loud"}, []string{"--log-level", "invalid log level specified 'loud'"}},
		{[]string{"--component-log-level", "upstream"}, []string{"--component-log-level", "not correctly specified 'upstream'"}},
		{[]string{"--component-log-level", "upstream:debug", "--enable-fine-grain-logging"}, []string{"--component-log-level will not work with --enable-fine-grain-logging"}},
		{[]string{"--drain-strategy", "slow"}, []string{"--drain-strategy", "unknown drain-strategy"}},
		{[]string{"--concurrency", "-1"}, []string{"--concurrency", "unsigned 32-bit"}},
		{[]string{"--socket-path", "/run/envoy.sock", "--socket-mode", "9"}, []string{"--socket-mode", "invalid socket-mode '9'"}},
		{[]string{"--stats-tag", "nocolon"}, []string{"--stats-tag", "misformatted stats-tag 'nocolon'"}},
		{[]string{"--stats-tag", "f_o:bar"}, []string{"contains invalid char in 'f_o'"}},
		{[]string{"--stats-tag", "foo:b.ar"}, []string{"contains invalid char in 'b.ar'"}},
		{[]string{"--no-such-flag"}, []string{`"--no-such-flag"`, "Couldn't find match for argument"}},
		{[]string{"--bootstrap-version", "3"}, []string{`"--bootstrap-version"`, "no longer has this flag"}},
		{[]string{"-c", "/a.yaml", "stray"}, []string{`"stray"`, "positional"}},
		{[]string{"-c", "/a.yaml", "--config-path", "/b.yaml"}, []string{"--config-path given twice", "Argument already set!"}},
		{[]string{"--disable-hot-restart", "--disable-hot-restart"}, []string{"--disable-hot-restart given twice"}},
		{[]string{"-c"}, []string{"-c has no value"}},
		{[]string{"--disable-hot-restart true"}, []string{`"--disable-hot-restart true"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := ParseArgs(tc.args)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFromContainer(t *testing.T) {
	envoyArgs := []string{"--config-path", "/etc/envoy/envoy.yaml", "--log-level", "info"}
	for _, tc := range []struct {
		name          string
		command, args []string
		wantErr       string
	}{
		{name: "envoy on the PATH (Envoy Gateway)", command: []string{"envoy"}, args: envoyArgs},
		{name: "absolute binary path (ours)", command: []string{"/usr/local/bin/envoy"}, args: envoyArgs},
		{name: "flags in the command", command: slices.Concat([]string{"/usr/local/bin/envoy"}, envoyArgs)},
		{name: "image entrypoint with flags", args: envoyArgs},
		{name: "image entrypoint with envoy first", args: slices.Concat([]string{"envoy"}, envoyArgs)},
		{name: "envoyproxy/envoy's entrypoint script", command: []string{"/docker-entrypoint.sh"}, args: envoyArgs},
		{name: "entrypoint script running envoy", command: []string{"/docker-entrypoint.sh", "envoy"}, args: envoyArgs},
		{name: "entrypoint script running something else", command: []string{"/docker-entrypoint.sh"}, args: []string{"sleep", "1"}, wantErr: `"sleep"`},
		{name: "image entrypoint running something else", args: []string{"/bin/sh", "-c", "envoy"}, wantErr: `"/bin/sh"`},
		{name: "a shell", command: []string{"/bin/sh", "-c"}, args: []string{"exec envoy -c /etc/envoy/envoy.yaml"}, wantErr: `"/bin/sh" is not envoy`},
		{name: "a wrapper", command: []string{"/usr/local/bin/envoyinit"}, wantErr: `"/usr/local/bin/envoyinit" is not envoy`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromContainer(tc.command, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Args{ConfigPath: "/etc/envoy/envoy.yaml", LogLevel: "info"}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
