package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/sim/xdsclient/xdsclienttest"
)

func loopbackAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The command against a real API server: it becomes ready, serves ADS,
// and exits 0 when interrupted.
func TestRunServesUntilInterrupted(t *testing.T) {
	env, _ := apiservertest.Start(t)
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}

	xdsAddr, health, metrics := loopbackAddress(t), loopbackAddress(t), loopbackAddress(t)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var stderr logcapture.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{
			"--kubeconfig", kubeconfig, "--xds-address", xdsAddr,
			"--health-address", health, "--metrics-address", metrics,
		}, &stderr)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := get("http://"+health+"/readyz", "") // ready: a translation was published
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := get("http://"+metrics+"/metrics", "keyconform_translations_total"); err != nil {
		t.Error(err)
	}
	xdsclienttest.Start(t, xdsAddr, "kgateway-system/http")

	interrupt()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit code %d after an interrupt, want 0:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after the interrupt:\n%s", stderr.String())
	}
	for _, want := range []string{"keyconform-controller starting", "created the GatewayClass", "xDS stream opened"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// get fetches url and checks for 200 and, if given, a fragment of the body.
func get(url, want string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, body.String())
	}
	if !strings.Contains(body.String(), want) {
		return fmt.Errorf("%s lacks %q", url, want)
	}
	return nil
}
