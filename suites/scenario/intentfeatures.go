package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
)

// intentFeatures are the features a policy intent relies on: a scenario
// using a field must declare the feature, so an implementation that does
// not claim it is not failed for it.
func intentFeatures(in *dialect.Intent) []features.Name {
	var out []features.Name
	add := func(f features.Name) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for k := range in.Annotations {
		if k == "kgateway.dev/policy-weight" {
			add(features.PolicyWeight)
		}
	}
	for _, t := range in.Spec.TargetRefs {
		switch {
		case t.Kind == "HTTPRoute" && t.SectionName != nil:
			add(features.RuleLevel)
		case t.Kind == "HTTPRoute":
			add(features.RouteLevel)
		case t.Kind == "Gateway" && t.SectionName != nil:
			add(features.ListenerLevel)
		}
	}
	if len(in.Spec.TargetSelectors) > 0 {
		add(features.TargetSelector)
	}
	auth := in.Spec.APIKeyAuth
	if auth == nil {
		return out
	}
	switch {
	case auth.Disable != nil:
		add(features.Disable)
	case auth.SecretSelector != nil:
		add(features.LabelSelector)
	case auth.SecretRef != nil && auth.SecretRef.Namespace != nil:
		add(features.ReferenceGrant)
	}
	for _, ks := range auth.KeySources {
		if ks.Header != nil {
			add(features.HeaderSource)
		}
		if ks.Query != nil {
			add(features.QuerySource)
		}
		if ks.Cookie != nil {
			add(features.CookieSource)
		}
	}
	if auth.ClientIDHeader != nil {
		add(features.ClientIDHeader)
	}
	if auth.ForwardCredential != nil && *auth.ForwardCredential {
		add(features.ForwardCredential)
	}
	return out
}

// lintIntentFeatures checks that s declares every feature its policies
// rely on.
func lintIntentFeatures(s Scenario, intents []*dialect.Intent) error {
	var missing []string
	for _, in := range intents {
		for _, f := range intentFeatures(in) {
			if !slices.Contains(s.Features, f) && !slices.Contains(missing, string(f)) {
				missing = append(missing, string(f))
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("its policies rely on feature(s) it does not declare: %s", strings.Join(missing, ", "))
}
