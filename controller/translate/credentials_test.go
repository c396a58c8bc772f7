package translate

import (
	"strings"
	"testing"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func secret(name string, data map[string]string, stringData map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, StringData: stringData}
	if data != nil {
		s.Data = map[string][]byte{}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
	}
	return s
}

func TestCollectCredentials(t *testing.T) {
	cred := func(client, key string) *apikeyauthv3.Credential {
		return &apikeyauthv3.Credential{Client: client, Key: key}
	}
	for _, tc := range []struct {
		name    string
		secrets []*corev1.Secret
		want    []*apikeyauthv3.Credential
		why     []string // substrings of the error; nil = valid
	}{
		{
			name:    "every entry, sorted by client",
			secrets: []*corev1.Secret{secret("s", map[string]string{"zed": "key-zzzz", "amy": "key-aaaa"}, nil)},
			want:    []*apikeyauthv3.Credential{cred("amy", "key-aaaa"), cred("zed", "key-zzzz")},
		},
		{
			name:    "one client, two keys",
			secrets: []*corev1.Secret{secret("s1", map[string]string{"amy": "key-2222"}, nil), secret("s2", map[string]string{"amy": "key-1111"}, nil)},
			want:    []*apikeyauthv3.Credential{cred("amy", "key-1111"), cred("amy", "key-2222")},
		},
		{
			name:    "empty values skipped",
			secrets: []*corev1.Secret{secret("s", map[string]string{"amy": "", "bob": "key-bbbb"}, nil)},
			want:    []*apikeyauthv3.Credential{cred("bob", "key-bbbb")},
		},
		{
			name:    "stringData wins over data",
			secrets: []*corev1.Secret{secret("s", map[string]string{"amy": "old-key-1"}, map[string]string{"amy": "new-key-1", "bob": "key-bbbb"})},
			want:    []*apikeyauthv3.Credential{cred("amy", "new-key-1"), cred("bob", "key-bbbb")},
		},
		{
			name:    "identical client and key once",
			secrets: []*corev1.Secret{secret("s1", map[string]string{"amy": "key-aaaa"}, nil), secret("s2", map[string]string{"amy": "key-aaaa"}, nil)},
			want:    []*apikeyauthv3.Credential{cred("amy", "key-aaaa")},
		},
		{
			name:    "one key, two clients",
			secrets: []*corev1.Secret{secret("s1", map[string]string{"amy": "shared-secret-value"}, nil), secret("s2", map[string]string{"bob": "shared-secret-value"}, nil)},
			why:     []string{`client "amy" in Secret ns/s1 and client "bob" in Secret ns/s2 hold the same API key`},
		},
		{
			name:    "nothing usable",
			secrets: []*corev1.Secret{secret("s1", map[string]string{"amy": ""}, nil), secret("s2", nil, nil)},
			why:     []string{"Secret(s) ns/s1, ns/s2 hold no non-empty API key"},
		},
		{
			name:    "not UTF-8",
			secrets: []*corev1.Secret{secret("s", map[string]string{"amy": "\xff\xfe-binary", "bob": "key-bbbb"}, nil)},
			why:     []string{`Secret ns/s entry "amy" is not UTF-8 text`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := collectCredentials(tc.secrets)
			if tc.why == nil {
				if why != "" {
					t.Fatalf("unexpected error: %s", why)
				}
				if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			if got != nil {
				t.Errorf("credentials returned with an error")
			}
			for _, w := range tc.why {
				if !strings.Contains(why, w) {
					t.Errorf("error %q does not say %q", why, w)
				}
			}
			for _, s := range tc.secrets {
				for _, v := range s.Data {
					if len(v) > 0 && strings.Contains(why, string(v)) {
						t.Errorf("error quotes a key value")
					}
				}
			}
		})
	}
}

func TestListSomeBoundsMessages(t *testing.T) {
	items := make([]string, 25)
	for i := range items {
		items[i] = "x"
	}
	if got := listSome(items, ", "); strings.Count(got, "x") != maxListed || !strings.HasSuffix(got, "and 15 more") {
		t.Errorf("listSome = %q", got)
	}
}
