package scenario

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"text/template"
)

// Manifests and request fields are Go templates. They see:
//
//	{{.Namespace}}       the scenario's namespace (random suffix per run)
//	{{ns "secrets"}}     an extra namespace the scenario declared
//	{{.GatewayClass}}    the GatewayClass under test
//	{{key "client1"}}    the value of an API key
//	{{host "www"}}       a hostname unique to the scenario's run,
//	                     www.<namespace>.example.com: a request that reaches
//	                     another scenario's Gateway finds no route there
//
// and these functions, for derived key forms: pct (percent-encode every
// reserved byte), b64 (base64, for Secret data), upper, lower, chop (drop
// the last character).
//
// A Renderer belongs to one run of one scenario: the keys, namespaces and
// redactor are that run's, so messages name that run's objects and hide
// its keys.
type Renderer struct {
	keys      KeySet
	redactor  *Redactor
	namespace string
	// extra are the namespaces of the scenario's aliases, declared in the
	// order of aliases.
	extra        map[string]string
	aliases      []string
	gatewayClass string
}

// NewRenderer renders the templates of s with keys, in namespaces named
// after s's folder (and aliases) ending in suffix: random for a run, fixed
// for the lint. Its redactor knows keys.
func NewRenderer(s Scenario, keys KeySet, suffix, gatewayClass string) *Renderer {
	rn := &Renderer{keys: keys, redactor: NewRedactor(keys), namespace: namespaceName(s.Dir, "", suffix),
		extra: map[string]string{}, aliases: slices.Clone(s.Namespaces), gatewayClass: gatewayClass}
	for _, alias := range s.Namespaces {
		rn.extra[alias] = namespaceName(s.Dir, alias, suffix)
	}
	return rn
}

// namespaceName is "<dir>[-<alias>]-<suffix>", within the 63 characters a
// namespace name may have.
func namespaceName(dir, alias, suffix string) string {
	tail := "-" + suffix
	if alias != "" {
		tail = "-" + alias + tail
	}
	if len(dir)+len(tail) > 63 {
		dir = strings.TrimRight(dir[:63-len(tail)], "-")
	}
	return dir + tail
}

// Namespace is the scenario's own namespace ({{.Namespace}}).
func (r *Renderer) Namespace() string { return r.namespace }

// Namespaces are the scenario's own namespace, then those of its aliases
// in the order it declares them: the order they are created in.
func (r *Renderer) Namespaces() []string {
	out := []string{r.namespace}
	for _, alias := range r.aliases {
		out = append(out, r.extra[alias])
	}
	return out
}

// Redactor hides the run's keys, and every derived form a template made.
func (r *Renderer) Redactor() *Redactor { return r.redactor }

type renderData struct {
	Namespace    string
	GatewayClass string
}

// Render expands text with real key values, recording every derived key
// form with the redactor.
func (r *Renderer) Render(name, text string) (string, error) {
	return r.execute(name, text, r.realFuncs())
}

// Describe expands text with placeholders instead of key values; it is
// what messages show.
func (r *Renderer) Describe(text string) string {
	out, err := r.execute("describe", text, r.placeholderFuncs())
	if err != nil {
		return r.redactor.Redact(text)
	}
	return out
}

func (r *Renderer) execute(name, text string, funcs template.FuncMap) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, renderData{Namespace: r.namespace, GatewayClass: r.gatewayClass}); err != nil {
		return "", fmt.Errorf("template %s: %s", name, r.redactor.Redact(err.Error()))
	}
	return b.String(), nil
}

func (r *Renderer) ns(alias string) (string, error) {
	n, ok := r.extra[alias]
	if !ok {
		return "", fmt.Errorf("namespace alias %q is not declared by the scenario (Namespaces field)", alias)
	}
	return n, nil
}

// host is a hostname of the scenario's run.
func (r *Renderer) host(label string) string {
	return label + "." + r.namespace + ".example.com"
}

// derivations are the key transformations templates may apply.
var derivations = map[string]func(string) string{
	"pct":   percentEncode,
	"b64":   func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"chop": func(s string) string {
		if s == "" {
			return s
		}
		return s[:len(s)-1]
	},
}

func (r *Renderer) realFuncs() template.FuncMap {
	fm := template.FuncMap{"key": r.keys.Value, "ns": r.ns, "host": r.host}
	for name, fn := range derivations {
		fm[name] = func(s string) string {
			out := fn(s)
			r.redactor.Derive(s, out, name)
			return out
		}
	}
	return fm
}

func (r *Renderer) placeholderFuncs() template.FuncMap {
	fm := template.FuncMap{
		"key":  func(name string) string { return "<key:" + name + ">" },
		"ns":   r.ns,
		"host": r.host,
	}
	for name, fn := range derivations {
		fm[name] = func(s string) string {
			if strings.Contains(s, "<key:") {
				return name + "(" + s + ")"
			}
			return fn(s)
		}
	}
	return fm
}
