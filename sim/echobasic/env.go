package echobasic

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrModeNotImplemented is wrapped by the error returned for an environment
// that selects the image's UDP echo server.
var ErrModeNotImplemented = errors.New("echo mode not implemented in process")

// The variables that switch the image from HTTP to another echo server,
// checked in this order: the first one set wins. UDP is not served here.
const (
	grpcModeVar = "GRPC_ECHO_SERVER"
	tcpModeVar  = "TCP_ECHO_SERVER"
	udpModeVar  = "UDP_ECHO_SERVER"
)

// mode is the server the image runs.
type mode int

const (
	modeHTTP mode = iota
	// modeGRPC: HTTP_PORT serves gRPC in plaintext, HTTPS_PORT over TLS,
	// and there is no h2c port.
	modeGRPC
	// modeTCP: TCP_PORT (default 3000, kept in httpPort) in plaintext,
	// TLS_PORT (default 8443, in httpsPort) over TLS, and no HTTP at all.
	modeTCP
)

// config is the image's view of its environment.
type config struct {
	mode mode
	// tlsPortText is TLS_PORT as written in TCP mode, which the image
	// echoes whether TLS is on or not.
	tlsPortText string
	// httpPortText is HTTP_PORT as written: the image echoes the text, not
	// the number.
	httpPortText string
	httpPort     int
	h2cPort      int
	// httpsPort is 0 when HTTPS is off.
	httpsPort int
	// files are the TLS files; nil when HTTPS is off.
	files *tlsFiles

	namespace, ingress, service, pod string
}

// tlsFiles are the paths of the HTTPS listener's PEM files.
type tlsFiles struct {
	cert, key string
	// keyVar names the variable key came from, for errors.
	keyVar string
	// clientCAs is empty when client certificates are not asked for.
	clientCAs string
}

// parseEnv reads env as the image reads its environment. An unset variable
// and an empty one are the same to the image (it uses os.Getenv).
func parseEnv(env map[string]string) (config, error) {
	m := modeHTTP
	switch {
	case env[grpcModeVar] != "":
		m = modeGRPC
	case env[tcpModeVar] != "":
		m = modeTCP
	case env[udpModeVar] != "":
		return config{}, fmt.Errorf("echobasic: %s=%q selects the image's UDP echo server: %w",
			udpModeVar, env[udpModeVar], ErrModeNotImplemented)
	}
	portVar, tlsPortVar := "HTTP_PORT", "HTTPS_PORT"
	if m == modeTCP {
		portVar, tlsPortVar = "TCP_PORT", "TLS_PORT"
	}
	c := config{
		mode:         m,
		httpPortText: valueOr(env, portVar, "3000"),
		namespace:    env["NAMESPACE"],
		ingress:      env["INGRESS_NAME"],
		service:      env["SERVICE_NAME"],
		pod:          env["POD_NAME"],
	}
	var err error
	if c.httpPort, err = port(portVar, c.httpPortText); err != nil {
		return config{}, err
	}
	if m == modeTCP {
		c.tlsPortText = valueOr(env, tlsPortVar, "8443")
		if _, err = port(tlsPortVar, c.tlsPortText); err != nil {
			return config{}, err
		}
	}
	// The gRPC and TCP servers name the key TLS_SERVER_PRIV_KEY, the HTTP
	// one TLS_SERVER_PRIVKEY, and ask for no client certificate.
	keyVar, clientCAs := "TLS_SERVER_PRIVKEY", env["TLS_CLIENT_CACERTS"]
	if m != modeHTTP {
		keyVar, clientCAs = "TLS_SERVER_PRIV_KEY", ""
	} else if c.h2cPort, err = port("H2C_PORT", valueOr(env, "H2C_PORT", "3001")); err != nil {
		return config{}, err
	}
	// The image turns TLS on only with both the certificate and its key;
	// one of them alone, or the client CAs alone, leave it off.
	if env["TLS_SERVER_CERT"] == "" || env[keyVar] == "" {
		return c, nil
	}
	if c.httpsPort, err = port(tlsPortVar, valueOr(env, tlsPortVar, "8443")); err != nil {
		return config{}, err
	}
	c.files = &tlsFiles{cert: env["TLS_SERVER_CERT"], key: env[keyVar], keyVar: keyVar, clientCAs: clientCAs}
	return c, nil
}

func valueOr(env map[string]string, name, def string) string {
	if v := env[name]; v != "" {
		return v
	}
	return def
}

// port reads a port number. The image hands the text to net.Listen, which
// would also take a service name such as "http"; the local environment
// binds ports by number, so only numbers are accepted.
func port(name, text string) (int, error) {
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("echobasic: %s=%q: want a port number from 1 to 65535", name, text)
	}
	return n, nil
}

// Ports returns the ports the image listens on for env: HTTP (HTTP_PORT,
// default 3000), h2c (H2C_PORT, default 3001, always open but in gRPC
// mode, where it is 0) and HTTPS (HTTPS_PORT, default 8443; 0 when
// TLS_SERVER_CERT and TLS_SERVER_PRIVKEY, in gRPC and TCP modes
// TLS_SERVER_PRIV_KEY, are not both set). In gRPC mode the HTTP and HTTPS
// ports serve gRPC; in TCP mode they are TCP_PORT and TLS_PORT. The error
// is the one Start would return for env: a port that is not a number, or
// the UDP echo mode.
func Ports(env map[string]string) (httpPort, h2cPort, httpsPort int, err error) {
	c, err := parseEnv(env)
	if err != nil {
		return 0, 0, 0, err
	}
	return c.httpPort, c.h2cPort, c.httpsPort, nil
}
