package scenario

import "testing"

func TestRequestTargetMustBeOriginForm(t *testing.T) {
	ks, err := NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rn := &Renderer{keys: ks, redactor: NewRedactor(ks), namespace: "ns"}
	for target, ok := range map[string]bool{
		"/anything#frag": true, "/anything?api-key={{key \"client1\"}}#f": true,
		"anything": false, "//evil.example/": false, "/a b": false, "/a\x00": false, "http://h/a": false,
	} {
		if _, err := Get("/").WithTarget(target).Render(rn); (err == nil) != ok {
			t.Errorf("target %q: err = %v, want ok=%v", target, err, ok)
		}
	}
}
