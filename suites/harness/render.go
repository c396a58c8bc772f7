package harness

import (
	"encoding/base64"
	"fmt"
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
type renderer struct {
	keys         KeySet
	redactor     *Redactor
	namespace    string
	extra        map[string]string
	gatewayClass string
}

type renderData struct {
	Namespace    string
	GatewayClass string
}

// render expands text with real key values, recording every derived key
// form with the redactor.
func (r *renderer) render(name, text string) (string, error) {
	return r.execute(name, text, r.realFuncs())
}

// describe expands text with placeholders instead of key values; it is
// what messages show.
func (r *renderer) describe(text string) string {
	out, err := r.execute("describe", text, r.placeholderFuncs())
	if err != nil {
		return r.redactor.Redact(text)
	}
	return out
}

func (r *renderer) execute(name, text string, funcs template.FuncMap) (string, error) {
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

func (r *renderer) ns(alias string) (string, error) {
	n, ok := r.extra[alias]
	if !ok {
		return "", fmt.Errorf("namespace alias %q is not declared by the scenario (Namespaces field)", alias)
	}
	return n, nil
}

// host is a hostname of the scenario's run.
func (r *renderer) host(label string) string {
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

func (r *renderer) realFuncs() template.FuncMap {
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

func (r *renderer) placeholderFuncs() template.FuncMap {
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
