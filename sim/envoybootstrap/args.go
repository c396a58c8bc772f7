package envoybootstrap

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Args is an Envoy command line as the sim runs it: what it needs to load
// the bootstrap, and what it accepted without effect.
type Args struct {
	// ConfigPath is -c / --config-path: the bootstrap file.
	ConfigPath string
	// ConfigYAML is --config-yaml: an inline bootstrap merged over the
	// file's.
	ConfigYAML string
	// ServiceNode, ServiceCluster and ServiceZone override node.id,
	// node.cluster and node.locality.zone of the bootstrap.
	ServiceNode, ServiceCluster, ServiceZone string
	// LogLevel is -l / --log-level as given: trace, debug, info, warning,
	// warn, error, critical or off; "" when not given (Envoy's default is
	// info).
	LogLevel string
	// AllowUnknownStaticFields is --allow-unknown-static-fields (or its
	// deprecated alias --allow-unknown-fields): unknown bootstrap fields
	// are dropped instead of rejected.
	AllowUnknownStaticFields bool
	// Ignored lists the flags accepted without effect on the sim, each
	// "--flag [value]: reason", in command-line order.
	Ignored []string
}

// ParseArgs parses Envoy's command line as Envoy does (TCLAP, set up in
// source/server/options_impl.cc), without the program name. A first
// argument that names the envoy binary ("envoy", "/usr/local/bin/envoy") is
// taken as the program name, for pod specs that put it in args.
//
// TCLAP as Envoy configures it (delimiter ' '):
//   - a value flag takes the next argument as its value, even one starting
//     with '-' (--log-format "- %v");
//   - "--flag value" in ONE argument also works: TCLAP splits a flag at
//     its first space (cilium's chart relies on it);
//   - "--flag=value" does NOT work: TCLAP only splits at its delimiter,
//     which Envoy sets to ' ', so Envoy rejects "--log-level=info" as an
//     unknown argument, and so does ParseArgs;
//   - a flag given twice is an error ("Argument already set!"), except
//     --stats-tag;
//   - "--" ends the command line: TCLAP ignores everything after it.
func ParseArgs(args []string) (Args, error) {
	if len(args) > 0 && isEnvoyBinary(args[0]) {
		args = args[1:]
	}
	p := &parser{seen: map[string]bool{}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if rest := len(args) - i - 1; rest > 0 {
				p.a.Ignored = append(p.a.Ignored, fmt.Sprintf("--: Envoy (TCLAP's ignore_rest) ignores the %d argument(s) after it", rest))
			}
			break
		}
		f, name, value, inline := match(arg)
		if f == nil {
			return Args{}, unknownArg(arg)
		}
		if p.seen[f.long] && !f.multi {
			return Args{}, fmt.Errorf("%s given twice: Envoy rejects it (TCLAP: \"Argument already set!\")", name)
		}
		p.seen[f.long] = true
		if f.value && !inline {
			if i+1 >= len(args) {
				return Args{}, fmt.Errorf("%s has no value: Envoy rejects it (TCLAP: \"Missing a value for this argument!\")", name)
			}
			i++
			value = args[i]
		}
		if err := f.apply(p, name, value); err != nil {
			return Args{}, err
		}
	}
	if err := p.crossCheck(); err != nil {
		return Args{}, err
	}
	return p.a, nil
}

// FromContainer returns the Envoy command line of a Kubernetes container:
// the process runs command + args, or the image's entrypoint with args
// when command is empty.
//
// An empty command is taken to be the envoyproxy/envoy images' entrypoint,
// /docker-entrypoint.sh (ci/docker-entrypoint.sh in Envoy's repository),
// which runs `envoy "$@"` when its first argument starts with '-' and
// execs its arguments otherwise; command /docker-entrypoint.sh is treated
// the same. The script also appends --log-level "$loglevel" when that
// environment variable is set, which a command line cannot show: the caller
// owns the pod's environment. Kubernetes' $(VAR) references in args (Envoy
// Gateway's --service-node $(ENVOY_POD_NAME)) must be expanded by the
// caller too, as the kubelet does.
//
// Any other command (a shell, a wrapper script) is an error naming it: what
// it would run cannot be known from the pod spec.
func FromContainer(command, args []string) (Args, error) {
	if len(command) == 0 {
		return viaEntrypoint(args, "the image entrypoint (empty command)")
	}
	argv := slices.Concat(command, args)
	switch {
	case isEnvoyBinary(argv[0]):
		return ParseArgs(argv[1:])
	case path.Base(argv[0]) == "docker-entrypoint.sh":
		return viaEntrypoint(argv[1:], argv[0])
	default:
		return Args{}, fmt.Errorf("container command %q is not envoy: the sim runs only Envoy itself (command envoy or /usr/local/bin/envoy) or envoyproxy/envoy's /docker-entrypoint.sh with Envoy's arguments", argv[0])
	}
}

// viaEntrypoint is envoyproxy/envoy's docker-entrypoint.sh: arguments
// starting with '-' are Envoy's; otherwise the first argument is the
// program it execs.
func viaEntrypoint(args []string, entrypoint string) (Args, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || isEnvoyBinary(args[0]) {
		return ParseArgs(args)
	}
	return Args{}, fmt.Errorf("container args start with %s: %s would run that program, not envoy", quoteArg(args[0]), entrypoint)
}

func isEnvoyBinary(s string) bool {
	return !strings.HasPrefix(s, "-") && path.Base(s) == "envoy"
}

// match finds the flag an argument is, as TCLAP's Arg::argMatches after
// Arg::trimFlag: a value flag may carry its value after a space in the same
// argument. name is the flag as written (-c or --config-path).
func match(arg string) (f *flag, name, value string, inline bool) {
	name = arg
	if i := strings.IndexByte(arg, ' '); i > 1 {
		name, value, inline = arg[:i], arg[i+1:], true
	}
	f = flagsByName[name]
	if f == nil {
		return nil, "", "", false
	}
	if inline && !f.value {
		// A SwitchArg matches the whole argument only.
		return nil, "", "", false
	}
	// TCLAP's ValueArg::processArg skips an argument with a '*' after its
	// first character (Arg::_hasBlanks: '*' marks combined switches).
	if f.value && strings.Contains(arg[1:], "*") {
		return nil, "", "", false
	}
	return f, name, value, inline
}

func unknownArg(arg string) error {
	msg := fmt.Sprintf("argument %s: Envoy rejects it (TCLAP: \"Couldn't find match for argument\")", quoteArg(arg))
	if name, _, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(arg, "-") && flagsByName[name] != nil {
		return errors.New(msg + fmt.Sprintf(": Envoy's TCLAP splits a flag from its value at a space, never at '='; write %s and its value as two arguments", name))
	}
	if strings.HasPrefix(arg, "-") && strings.Contains(arg, "*") {
		return errors.New(msg + ": TCLAP does not match a value flag whose argument contains '*'; pass the value as a separate argument")
	}
	if hint, ok := removedFlags[strings.TrimLeft(arg, "-")]; ok {
		return errors.New(msg + ": " + hint)
	}
	if !strings.HasPrefix(arg, "-") {
		return errors.New(msg + ": Envoy takes no positional arguments")
	}
	return errors.New(msg)
}

// quoteArg quotes a command-line argument for an error message: short, and
// never a private key (an argument may be a whole inline bootstrap).
func quoteArg(s string) string {
	s = redact(s)
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q (%d bytes)", s[:max]+"...", len(s))
	}
	return fmt.Sprintf("%q", s)
}
