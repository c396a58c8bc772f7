package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/admin"
	"github.com/keyconform/keyconform/sim/apikeyauth"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/httpbin"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

const node = "kgateway-system/http"

var client = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}

func get(t *testing.T, url string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminEndpoint(t *testing.T) {
	backend, err := httpbin.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	network := podnet.New()
	if err := network.Add("10.244.0.10:8000", backend.Addr()); err != nil {
		t.Fatal(err)
	}
	xds := xdstest.Start(t)
	p, err := dataplane.New(dataplane.Options{XDS: xdsclient.Options{ServerAddress: xds.Addr(), NodeID: node}, Network: network,
		Logger:          slog.New(slog.NewTextHandler(t.Output(), nil)),
		ListenOverrides: map[uint32]string{8080: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admin.Start("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	base := "http://" + adm.Addr()

	if code, body := get(t, base+"/ready", nil); code != 503 || body != "PRE_INITIALIZING\n" {
		t.Errorf("/ready before Run: %d %q", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	if code, body := get(t, base+"/ready", nil); code != 503 || body != "INITIALIZING\n" {
		t.Errorf("/ready without config: %d %q", code, body)
	}

	r := xdstest.PrefixRoute("httpbin", "/", "kube_httpbin_httpbin_8000")
	r.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.APIKeyAuth(t,
		map[string]string{"client1": "k-123-very-secret"}, true, "", "header:api-key")}
	xds.Set(t, node, "1", xdstest.Listener(t, 8080),
		xdstest.RouteConfig(8080, xdstest.VirtualHost(8080, "", r)),
		xdstest.Cluster("kube_httpbin_httpbin_8000"), xdstest.Endpoints(t, "kube_httpbin_httpbin_8000", "10.244.0.10:8000"))
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, base+"/ready", nil); code != 200 || body != "LIVE\n" {
		t.Errorf("/ready when live: %d %q", code, body)
	}

	addr, _ := p.ListenerAddr(8080)
	if code, _ := get(t, "http://"+addr+"/get", map[string]string{"api-key": "k-123-very-secret"}); code != 200 {
		t.Fatalf("authenticated request: %d", code)
	}
	if code, _ := get(t, "http://"+addr+"/get", nil); code != 401 {
		t.Fatalf("anonymous request: %d", code)
	}

	_, stats := get(t, base+"/stats", nil)
	for _, want := range []string{
		"http.http.api_key_auth.allowed: 1\n",
		"http.http.api_key_auth.unauthorized: 1\n",
		"http.http.api_key_auth.forbidden: 0\n",
		"listener_manager.lds.update_success: 1\n",
		// Envoy creates a subscription's counters together
		// (envoy/config/subscription.h): zero, not absent.
		"listener_manager.lds.update_rejected: 0\n",
		"control_plane.connected_state: 1\n",
	} {
		if !strings.Contains(stats, want) {
			t.Errorf("/stats lacks %q:\n%s", want, stats)
		}
	}
	if _, js := get(t, base+"/stats?format=json&filter=api_key_auth", nil); !strings.Contains(js, `{"name":"http.http.api_key_auth.allowed","value":1}`) || strings.Contains(js, "lds") {
		t.Errorf("/stats?format=json&filter=api_key_auth = %s", js)
	}

	code, dump := get(t, base+"/config_dump?include_eds", nil)
	if code != 200 || strings.Contains(dump, "k-123-very-secret") {
		t.Fatalf("/config_dump leaked a key or failed (%d)", code)
	}
	for _, want := range []string{
		`"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"`,
		`"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"`,
		`"@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"`,
		`"key": "[redacted]"`,
		`"name": "listener~8080"`,
		`"header": "api-key"`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("/config_dump lacks %s", want)
		}
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	if _, err := admin.Start("0.0.0.0:0", nil); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("error = %v", err)
	}
}
