package echobasic

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// echoed is the JSON echo. The field order and names are the image's: the
// suite decodes them by name, and comparing bodies byte for byte with the
// image's should find no difference either.
type echoed struct {
	Path      string              `json:"path"`
	Host      string              `json:"host"`
	Method    string              `json:"method"`
	Proto     string              `json:"proto"`
	Headers   map[string][]string `json:"headers"`
	HTTPPort  string              `json:"httpPort"`
	Namespace string              `json:"namespace"`
	Ingress   string              `json:"ingress"`
	Service   string              `json:"service"`
	Pod       string              `json:"pod"`
	TLS       *echoedTLS          `json:"tls,omitempty"`
}

// echoedTLS describes the TLS connection a request came on.
type echoedTLS struct {
	Version string `json:"version"`
	// PeerCertificates are the client's certificates, PEM encoded.
	PeerCertificates   []string `json:"peerCertificates,omitempty"`
	ServerName         string   `json:"serverName"`
	NegotiatedProtocol string   `json:"negotiatedProtocol,omitempty"`
	CipherSuite        string   `json:"cipherSuite"`
}

// echo answers with the JSON description of r.
func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	// The suite's mirror tests find mirrored requests by this line.
	fmt.Fprintf(s.log, "Echoing back request made to %s to client (%s)\n", r.RequestURI, r.RemoteAddr)
	if err := s.delay(r, "delay"); err != nil {
		writeError(w, err, http.StatusInternalServerError)
		return
	}
	body, err := json.MarshalIndent(echoed{
		// The request target as received: slashes, dot segments and
		// query are as the client (or the gateway) sent them.
		Path:      r.RequestURI,
		Host:      r.Host,
		Method:    r.Method,
		Proto:     r.Proto,
		Headers:   r.Header,
		HTTPPort:  s.cfg.httpPortText,
		Namespace: s.cfg.namespace,
		Ingress:   s.cfg.ingress,
		Service:   s.cfg.service,
		Pod:       s.cfg.pod,
		TLS:       describeTLS(r.TLS),
	}, "", " ")
	if err != nil {
		writeError(w, err, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	setRequestedHeaders(h, r.Header["X-Echo-Set-Header"])
	// Set after the requested headers, which therefore cannot change them.
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body) // an error means the client has gone
}

// setRequestedHeaders adds the response headers each X-Echo-Set-Header
// value asks for: comma-separated "Name:value" items. The name is used as
// written, not canonicalised, so that a test can see how a gateway treats
// its case. The first value of a name is kept untrimmed (the HTTP/1
// writer trims it anyway); later ones for the same name are trimmed and
// joined to it with a comma, in a single header line.
func setRequestedHeaders(h http.Header, directives []string) {
	for _, d := range directives {
		for item := range strings.SplitSeq(d, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(item), ":")
			if vs := h[name]; len(vs) > 0 {
				vs[0] = vs[0] + "," + strings.TrimSpace(value)
				continue
			}
			// An empty directive gives an empty name, which net/http
			// drops when writing: the suite sends one with every request.
			h[name] = []string{value}
		}
	}
}

// tlsVersions are the names the image gives TLS versions; other versions
// are echoed as "".
var tlsVersions = map[uint16]string{
	tls.VersionTLS10: "TLSv1.0",
	tls.VersionTLS11: "TLSv1.1",
	tls.VersionTLS12: "TLSv1.2",
	tls.VersionTLS13: "TLSv1.3",
}

func describeTLS(st *tls.ConnectionState) *echoedTLS {
	if st == nil {
		return nil
	}
	return &echoedTLS{
		Version:            tlsVersions[st.Version],
		PeerCertificates:   pemCertificates(st.PeerCertificates),
		ServerName:         st.ServerName,
		NegotiatedProtocol: st.NegotiatedProtocol,
		CipherSuite:        tls.CipherSuiteName(st.CipherSuite),
	}
}

// pemCertificates encodes certs as PEM, one string each; nil for none, so
// that the field is left out of the JSON.
func pemCertificates(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return out
}

// delay waits for the duration in r's form value param, if any. Only Close
// cuts it short: the image waits even when the client has gone, and a
// retry waits with its attempts locked. The error is ParseDuration's own,
// unwrapped, because its text is what the client receives.
func (s *Server) delay(r *http.Request, param string) error {
	// FormValue, as the image: a form body of a POST counts as well.
	v := r.FormValue(param)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.stop:
	}
	return nil
}

// writeError reports err to the client as the image does: a JSON object
// with the error's text as "message".
func writeError(w http.ResponseWriter, err error, code int) {
	// A struct of one string always encodes.
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{err.Error()})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body) // an error means the client has gone
}
