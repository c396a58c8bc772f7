package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/suites/scenario"
)

// DataPlanes is an Environment whose Gateways' data planes serve Envoy's
// admin interface to the suite (the sim's, on loopback).
type DataPlanes interface {
	// AdminAddress returns "host:port" of the admin interface of a data
	// plane of gateway.
	AdminAddress(ctx context.Context, gateway types.NamespacedName) (string, error)
}

// adminDumps are what the suite saves of each data plane: Envoy's config
// dump (which must show keys as "[redacted]") and its stats.
var adminDumps = []struct{ path, file string }{
	{"/config_dump?include_eds", "config_dump.json"},
	{"/stats", "stats.txt"},
}

// dumpDataPlanes saves the admin dumps of every Gateway the scenario
// applied and did not delete under dir/dataplanes/<scenario>/, unredacted:
// they are evidence for the run's leak scan, which fails the run if any
// holds a key. Evidence that cannot be collected is logged, not a
// failure of the implementation.
func (x *execution) dumpDataPlanes(ctx context.Context, dir string) {
	dp, ok := x.env.(DataPlanes)
	if dir == "" || !ok {
		return
	}
	out := filepath.Join(dir, "dataplanes", x.scenario.ShortName)
	for _, a := range x.applied {
		if a.gvk != scenario.GatewayKind {
			continue
		}
		gw := types.NamespacedName{Namespace: a.obj.GetNamespace(), Name: a.obj.GetName()}
		if _, err := getUnstructured(ctx, x.res, a.gvk, gw.Namespace, gw.Name); err != nil {
			continue // deleted by the scenario: nothing serves it any more
		}
		if err := x.dumpDataPlane(ctx, dp, gw, out); err != nil {
			x.logf("could not save the data plane dumps of Gateway %s: %v", gw, err)
		}
	}
}

func (x *execution) dumpDataPlane(ctx context.Context, dp DataPlanes, gw types.NamespacedName, out string) error {
	var addr string
	err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) (err error) {
		addr, err = dp.AdminAddress(ctx, gw)
		return err
	})
	if err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("admin address %q is not on loopback", addr)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	c := &http.Client{Timeout: x.timeouts.RequestTimeout, Transport: &http.Transport{Proxy: nil}}
	for _, d := range adminDumps {
		if err := saveURL(ctx, c, "http://"+addr+d.path, filepath.Join(out, gw.Namespace+"."+gw.Name+"."+d.file)); err != nil {
			return err
		}
	}
	return nil
}

func saveURL(ctx context.Context, c *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}
