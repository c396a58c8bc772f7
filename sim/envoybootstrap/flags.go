package envoybootstrap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// flag is one of Envoy's command-line options (source/server/options_impl.cc;
// envoy.admin.v3.CommandLineOptions lists them all but --version, --help,
// --hot-restart-version and --allow-unknown-fields) and what the sim does
// with it.
type flag struct {
	long  string // without "--"
	short string // without "-", or ""
	value bool   // a TCLAP ValueArg: takes a value; else a SwitchArg
	multi bool   // a TCLAP MultiArg: may repeat
	// apply records the flag in p; name is the flag as written, value its
	// value ("" for a switch).
	apply func(p *parser, name, value string) error
}

// Why flags are accepted without effect.
const (
	whyOwnLog = "Envoy's own log output (format, destination, verbosity); the sim logs through its own logger"
	whyFlush  = "how often Envoy flushes access-log files; the sim writes no access-log files"
	whyHotRst = "hot restart (shared memory, the parent/child domain socket); the sim runs one process per data plane and never hot restarts"
	whyDrain  = "how Envoy drains listeners when it shuts down or a listener is removed; the sim closes a removed listener after a fixed grace period and is not tested on shutdown"
	whyThread = "how many worker threads Envoy runs and where; the sim serves with goroutines, which changes no response"
)

var flags = []*flag{
	{long: "config-path", short: "c", value: true, apply: func(p *parser, _, v string) error { p.a.ConfigPath = v; return nil }},
	{long: "config-yaml", value: true, apply: func(p *parser, _, v string) error { p.a.ConfigYAML = v; return nil }},
	{long: "service-node", value: true, apply: func(p *parser, _, v string) error { p.a.ServiceNode = v; return nil }},
	{long: "service-cluster", value: true, apply: func(p *parser, _, v string) error { p.a.ServiceCluster = v; return nil }},
	{long: "service-zone", value: true, apply: func(p *parser, _, v string) error { p.a.ServiceZone = v; return nil }},

	{long: "log-level", short: "l", value: true, apply: logLevel},
	{long: "component-log-level", value: true, apply: componentLogLevel},
	{long: "log-format", value: true, apply: ignore(whyOwnLog)},
	{long: "log-format-escaped", apply: ignore(whyOwnLog)},
	{long: "log-path", value: true, apply: ignore(whyOwnLog)},
	{long: "log-stacktrace-single-entry", apply: ignore(whyOwnLog)},
	{long: "skip-deprecated-logs", apply: ignore(whyOwnLog)},
	{long: "enable-fine-grain-logging", apply: ignore(whyOwnLog)},
	{long: "file-flush-interval-msec", value: true, apply: uint32Value(ignore(whyFlush))},
	{long: "file-flush-min-size-kb", value: true, apply: uint32Value(ignore(whyFlush))},

	{long: "base-id", value: true, apply: uint32Value(ignore(whyHotRst))},
	{long: "use-dynamic-base-id", apply: ignore(whyHotRst)},
	{long: "base-id-path", value: true, apply: ignore(whyHotRst + "; the file it names would only tell a hot-restart child the base ID")},
	{long: "disable-hot-restart", apply: ignore(whyHotRst)},
	{long: "restart-epoch", value: true, apply: uint32Value(restartEpoch)},
	{long: "skip-hot-restart-on-no-parent", apply: ignore(whyHotRst)},
	{long: "skip-hot-restart-parent-stats", apply: ignore(whyHotRst)},
	{long: "socket-path", value: true, apply: socketPath},
	{long: "socket-mode", value: true, apply: socketMode},
	{long: "parent-shutdown-time-s", value: true, apply: uint32Value(ignore(whyHotRst))},
	{long: "hot-restart-version", apply: exits("prints the hot restart compatibility version and exits")},

	{long: "drain-time-s", value: true, apply: uint32Value(ignore(whyDrain))},
	{long: "drain-strategy", value: true, apply: drainStrategy},
	{long: "concurrency", value: true, apply: uint32Value(ignore(whyThread))},
	{long: "cpuset-threads", apply: ignore(whyThread)},
	{long: "enable-core-dump", apply: ignore("lets Envoy dump core on a crash; nothing to do with traffic")},
	{long: "enable-mutex-tracing", apply: ignore("mutex contention statistics for the admin interface")},
	{long: "admin-address-path", value: true, apply: ignore("writes the admin address to a file; nothing in the sim's environment reads it")},
	{long: "stats-tag", value: true, multi: true, apply: statsTag},

	{long: "mode", value: true, apply: mode},
	{long: "local-address-ip-version", value: true, apply: localAddressIPVersion},
	{long: "allow-unknown-static-fields", apply: allowUnknownStaticFields},
	// Deprecated alias of --allow-unknown-static-fields, still accepted.
	{long: "allow-unknown-fields", apply: allowUnknownStaticFields},
	// Envoy accepts unknown fields in xDS resources by default (with a
	// warning and a counter); these two flags change that either way.
	{long: "ignore-unknown-dynamic-fields", apply: ignore("only silences Envoy's warnings about unknown fields in xDS resources, which it accepts either way")},
	{long: "reject-unknown-dynamic-fields", apply: reject("makes Envoy reject xDS resources with unknown fields, which the sim's xDS client does not implement; drop the flag")},
	{long: "disable-extensions", value: true, apply: reject("disables Envoy extensions, which the sim does not implement; drop the flag")},

	{long: "version", apply: exits("prints Envoy's version and exits")},
	{long: "help", short: "h", apply: exits("prints Envoy's usage and exits")},
}

// removedFlags were Envoy flags once; Envoy 1.40's TCLAP rejects them as
// unknown. The hint saves a trip to the changelog.
var removedFlags = map[string]string{
	"bootstrap-version": "Envoy no longer has this flag (it chose between v2 and v3 bootstraps; v3 is the only one now)",
	"max-stats":         "Envoy no longer has this flag (stats are no longer in shared memory)",
	"max-obj-name-len":  "Envoy no longer has this flag (stats are no longer in shared memory)",
}

var flagsByName = func() map[string]*flag {
	m := map[string]*flag{}
	for _, f := range flags {
		m["--"+f.long] = f
		if f.short != "" {
			m["-"+f.short] = f
		}
	}
	return m
}()

// parser accumulates one command line.
type parser struct {
	a    Args
	seen map[string]bool // by long name

	socketPath, socketMode string
}

// crossCheck is what options_impl.cc checks across flags once all are read.
func (p *parser) crossCheck() error {
	if p.seen["component-log-level"] && p.seen["enable-fine-grain-logging"] {
		return errors.New("--component-log-level with --enable-fine-grain-logging: Envoy rejects it (\"--component-log-level will not work with --enable-fine-grain-logging\")")
	}
	// Envoy reads --socket-mode, as octal, only for a socket path on the
	// filesystem: the default, @envoy_domain_socket, is an abstract socket.
	if p.seen["socket-mode"] && p.socketPath != "" && !strings.HasPrefix(p.socketPath, "@") {
		if _, err := strconv.ParseUint(p.socketMode, 8, 64); err != nil {
			return fmt.Errorf("--socket-mode %s: Envoy rejects it (\"error: invalid socket-mode '%s'\")", quoteArg(p.socketMode), redact(p.socketMode))
		}
	}
	return nil
}

func ignore(why string) func(p *parser, name, value string) error {
	return func(p *parser, name, value string) error {
		if value != "" {
			name += " " + quoteArg(value)
		}
		p.a.Ignored = append(p.a.Ignored, name+": "+why)
		return nil
	}
}

func reject(why string) func(p *parser, name, value string) error {
	return func(_ *parser, name, _ string) error {
		return fmt.Errorf("%s %s", name, why)
	}
}

// exits rejects a flag with which Envoy never serves.
func exits(what string) func(p *parser, name, value string) error {
	return func(_ *parser, name, _ string) error {
		return fmt.Errorf("%s: Envoy %s instead of serving; a data plane cannot run with it: drop the flag", name, what)
	}
}

// uint32Value checks a value as TCLAP reads a uint32_t before next sees it.
func uint32Value(next func(p *parser, name, value string) error) func(p *parser, name, value string) error {
	return func(p *parser, name, value string) error {
		if _, err := strconv.ParseUint(value, 10, 32); err != nil {
			return fmt.Errorf("%s %s: Envoy rejects it (TCLAP: \"Couldn't read argument value\"): want an unsigned 32-bit integer", name, quoteArg(value))
		}
		return next(p, name, value)
	}
}

// logLevels are spdlog's level names as Envoy accepts them
// (OptionsImpl::allowedLogLevels: [trace][debug][info][warning|warn][error][critical][off]).
var logLevels = map[string]bool{"trace": true, "debug": true, "info": true, "warning": true, "warn": true, "error": true, "critical": true, "off": true}

func logLevel(p *parser, name, value string) error {
	if !logLevels[value] {
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: invalid log level specified '%s'\")", name, quoteArg(value), redact(value))
	}
	p.a.LogLevel = value
	return nil
}

// componentLogLevel checks the "component:level,..." syntax as
// OptionsImpl::parseComponentLogLevels does. Envoy also rejects a component
// its logger registry does not know; the sim does not keep that list.
func componentLogLevel(p *parser, name, value string) error {
	if value != "" {
		for _, part := range strings.Split(value, ",") {
			fields := strings.Split(part, ":")
			if len(fields) != 2 {
				return fmt.Errorf("%s %s: Envoy rejects it (\"error: component log level not correctly specified '%s'\")", name, quoteArg(value), redact(part))
			}
			if !logLevels[fields[1]] {
				return fmt.Errorf("%s %s: Envoy rejects it (\"error: invalid log level specified '%s'\")", name, quoteArg(value), redact(fields[1]))
			}
		}
	}
	return ignore("per-component levels of Envoy's own log; the sim has no such components")(p, name, value)
}

func restartEpoch(p *parser, name, value string) error {
	if n, _ := strconv.ParseUint(value, 10, 32); n != 0 {
		return fmt.Errorf("%s %s: a hot restart child takes over from a running parent Envoy, which a sim data plane never has: use 0 or drop the flag", name, quoteArg(value))
	}
	return ignore(whyHotRst)(p, name, value)
}

func socketPath(p *parser, name, value string) error {
	if value == "" {
		// options_impl.cc reads its first character.
		return fmt.Errorf("%s \"\": Envoy needs a path (or @name for an abstract socket)", name)
	}
	p.socketPath = value
	return ignore(whyHotRst)(p, name, value)
}

func socketMode(p *parser, name, value string) error {
	p.socketMode = value // checked once --socket-path is known
	return ignore(whyHotRst)(p, name, value)
}

func drainStrategy(p *parser, name, value string) error {
	if value != "gradual" && value != "immediate" {
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: unknown drain-strategy\"): want gradual or immediate", name, quoteArg(value))
	}
	return ignore(whyDrain)(p, name, value)
}

func statsTag(p *parser, name, value string) error {
	// options_impl.cc: "name:value", split at the first ':'; the name
	// alphanumeric, the value without '.' (Stats::TagUtility).
	k, v, ok := strings.Cut(value, ":")
	if !ok {
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: misformatted stats-tag '%s'\"): want name:value", name, quoteArg(value), redact(value))
	}
	alnum := func(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' }
	var bad string
	switch {
	case k == "" || strings.IndexFunc(k, func(r rune) bool { return !alnum(r) }) >= 0:
		bad = k
	case strings.Contains(v, "."):
		bad = v
	}
	if bad != "" || k == "" {
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: misformatted stats-tag '%s' contains invalid char in '%s'\")", name, quoteArg(value), redact(value), redact(bad))
	}
	return ignore("a fixed tag on every stat: metrics only")(p, name, value)
}

func mode(p *parser, name, value string) error {
	switch value {
	case "serve":
		return nil
	case "validate":
		return fmt.Errorf("%s validate: Envoy would only validate the configuration and exit, never serving traffic; a data plane runs with --mode serve (the default): drop the flag", name)
	case "init_only":
		return fmt.Errorf("%s init_only: Envoy would initialise and exit, never serving traffic; a data plane runs with --mode serve (the default): drop the flag", name)
	default:
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: unknown mode '%s'\"): want serve", name, quoteArg(value), redact(value))
	}
}

func localAddressIPVersion(p *parser, name, value string) error {
	switch value {
	case "v4":
		return ignore("IPv4 is Envoy's default and the only address family of the sim's environment")(p, name, value)
	case "v6":
		return fmt.Errorf("%s v6: the sim's environment is IPv4 only: use v4 or drop the flag", name)
	default:
		return fmt.Errorf("%s %s: Envoy rejects it (\"error: unknown IP address version '%s'\"): want v4", name, quoteArg(value), redact(value))
	}
}

func allowUnknownStaticFields(p *parser, _, _ string) error {
	p.a.AllowUnknownStaticFields = true
	return nil
}
