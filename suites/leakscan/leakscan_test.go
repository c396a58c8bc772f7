package leakscan

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyconform/keyconform/suites/scenario"
)

func TestDirFindsEveryEncodingAndRedactsIt(t *testing.T) {
	seed, err := scenario.NewKeySeed()
	if err != nil {
		t.Fatal(err)
	}
	s := scenario.Scenario{ShortName: "ValidKey", Keys: []string{"client1"}}
	ks, err := seed.KeySet(s.ShortName, s.Keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ks.Value("client1")
	all, err := scenario.RunKeys(seed, []scenario.Scenario{s})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	files := map[string]string{
		"junit.xml":                           "<testcase name=\"ValidKey\"></testcase>\n",
		"logs/environment.log":                "level=INFO msg=ok\nlevel=INFO msg=\"got Bearer " + key + "\"\n",
		"dataplanes/ValidKey/ns.gw.stats.txt": "http.api_key_auth.allowed: 1\n",
		"report.yaml":                         "query: k=" + url.QueryEscape(key) + "\n",
		"objects.json":                        `{"data":"` + base64.StdEncoding.EncodeToString([]byte(key)) + `"}`,
		"upper.txt":                           strings.ToUpper(key),
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Scan(scenario.NewRedactor(all), root, filepath.Join(root, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(files) {
		t.Errorf("scanned %d files, want %d", res.Files, len(files))
	}
	base := filepath.Base(root) + "/"
	want := []string{base + "logs/environment.log:2:", base + "report.yaml:1:", base + "objects.json:1:", base + "upper.txt:1:"}
	if len(res.Leaks) != len(want) {
		t.Fatalf("found %d leaks, want %d: %q", len(res.Leaks), len(want), res.Leaks)
	}
	joined := strings.Join(res.Leaks, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("no leak reported at %s", w)
		}
	}
	if strings.Contains(strings.ToLower(joined), strings.ToLower(key)) {
		t.Error("a reported leak shows the key")
	}
	if !strings.Contains(joined, "<key:ValidKey/client1>") {
		t.Errorf("leaks do not name the key: %s", joined)
	}
}
