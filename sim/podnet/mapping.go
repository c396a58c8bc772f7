package podnet

import (
	"fmt"
	"strings"
)

// Mapping is one virtual IP:port -> loopback IP:port entry.
type Mapping struct {
	Virtual string
	Local   string
}

// ParseMappings parses the flag form
// "10.244.0.10:8000=127.0.0.1:38000,10.244.0.11:8000=127.0.0.1:38001".
// It checks the syntax and that every local address is loopback.
func ParseMappings(s string) ([]Mapping, error) {
	var out []Mapping
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		virtual, local, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("podnet: mapping %q: want VIRTUAL_IP:PORT=LOOPBACK_IP:PORT", item)
		}
		m := Mapping{Virtual: strings.TrimSpace(virtual), Local: strings.TrimSpace(local)}
		if err := New().Add(m.Virtual, m.Local); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
