// Package echobasic serves, in process, what the Gateway API echo image
// (registry.k8s.io/gateway-api/echo-basic, also published as
// gcr.io/k8s-staging-gateway-api/echo-basic) serves over HTTP: the
// conformance suite's backends and Envoy Gateway's quickstart backend.
// The answers are built to be indistinguishable from the image's, so that
// the suite's client (which decodes the JSON echo) and its log-reading
// mirror checks see no difference. The behaviour was learned from the
// image's source at sigs.k8s.io/gateway-api/conformance v1.6.3; the code
// here is this project's own.
//
// # Listeners and the environment that selects them
//
// The image opens up to three listeners, all chosen by its environment:
//
//   - HTTP_PORT (default 3000): HTTP/1.1 only; prior-knowledge h2c and
//     "Upgrade: h2c" are not honoured there (the upgrade header is ignored,
//     the HTTP/2 preface gets a 400). Served by [Serve] or [Start].
//   - H2C_PORT (default 3001): always opened; HTTP/1.1 and prior-knowledge
//     h2c. Every path echoes (no /health, /status, /retry or /ws here); an
//     HTTP/1.x request without "Upgrade: h2c" gets 400 "Expected h2c
//     request". Served by [Server.ServeH2C] or [Start].
//   - HTTPS_PORT (default 8443): opened only when both TLS_SERVER_CERT and
//     TLS_SERVER_PRIVKEY (file paths, PEM) are set; HTTP/1.1 and h2 by ALPN.
//     TLS_CLIENT_CACERTS (a PEM file path) makes the server ask for, and
//     verify, a client certificate that remains optional. Served by
//     [Server.ServeTLS] or [Start].
//
// [Ports] tells which ports those are for a given environment.
//
// POD_NAME, NAMESPACE, INGRESS_NAME and SERVICE_NAME are echoed back as
// "pod", "namespace", "ingress" and "service", and HTTP_PORT's text as
// "httpPort" on every listener, h2c and HTTPS included.
//
// GRPC_ECHO_SERVER, TCP_ECHO_SERVER and UDP_ECHO_SERVER (any non-empty
// value, checked in that order) switch the image to its gRPC, TCP or UDP
// echo servers. [Start] serves the gRPC one, the conformance suite's
// grpc-infra-backend: the GrpcEcho service of the conformance module's
// generated types (Echo and EchoTwo; EchoThree is unimplemented, as in the
// image) with server reflection, plaintext on HTTP_PORT and, when
// TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY (spelt so in this mode) are set,
// over TLS on HTTPS_PORT; each answer carries the full method name, the
// :authority, every header and the pod's context, and over TLS what was
// negotiated. There is no h2c port then, and [Serve] refuses the mode.
// [Start] serves the TCP one too, the suite's tcp-backend: TCP_PORT
// (default 3000) in plaintext and, with TLS_SERVER_CERT and
// TLS_SERVER_PRIV_KEY, TLS_PORT (default 8443) over TLS; a connection is
// welcomed with "Gateway API Test TCP Server", then TEST is answered with
// the pod's context (and the TLS state) as JSON, IS_TLS with true or
// false, PING with PONG, one line each. The UDP server is not implemented:
// [Serve], [Start] and [Ports] return an error wrapping
// [ErrModeNotImplemented] that names the variable.
//
// # Endpoints of the HTTP and HTTPS listeners
//
//   - "/health": 200 "OK".
//   - "/status/NNN": answers with status NNN and no body when the request
//     target is exactly that (a query string makes it 400); anything else
//     under /status/ is 400.
//   - "/retry/?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]": the
//     first N requests for U fail (by a TCP reset, or with status C), later
//     ones echo. Attempts are counted per Server, shared by its HTTP and
//     HTTPS listeners.
//   - "/ws": a WebSocket (RFC 6455, Origin header required) that echoes
//     every frame.
//   - anything else: the JSON echo. "?delay=D" (a Go duration) waits first;
//     each "X-Echo-Set-Header: Name:value[,Name:value...]" request header
//     sets response headers under the names as written.
//
// Paths have "//" folded into "/" before routing (the echoed "path" is the
// request target as received), then Go's ServeMux routes them, with its
// redirects for unclean paths, as the image does.
package echobasic
