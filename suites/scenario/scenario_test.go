package scenario

import "testing"

func TestResponseValidate(t *testing.T) {
	tests := []struct {
		resp Response
		ok   bool
	}{
		{Unauthorized, true},
		{InvalidRoute, true},
		{Reached(Backend{}), true},
		{Response{Status: 200}, false}, // says nothing about the backend
		{Response{Status: 401}, false}, // no body: backend-not-reached unproven
		{Response{Status: 401, Body: "x", Backend: &Backend{}}, false}, // local reply with backend
		{Response{Status: 200, Body: "x", Backend: &Backend{}}, false},
		{Response{Status: 42, Body: "x"}, false},
		{Response{Status: 400, NoBody: true}, true},
		{Response{Status: 400, NoBody: true, Body: "x"}, false},
		{Response{Status: 200, NoBody: true}, false}, // a 2xx local reply must state its headers
		{Response{Status: 200, NoBody: true, Headers: map[string][]string{"grpc-status": {"16"}}}, true},
		{Response{Status: 200, Headers: map[string][]string{"grpc-status": {"16"}}}, false}, // no body stated
		{Response{Status: 200, NoBody: true, Backend: &Backend{}}, false},
		{Response{Status: 200, Headers: map[string][]string{"x": {"1"}}, Backend: &Backend{}}, true},
	}
	for _, tt := range tests {
		if err := tt.resp.validate(); (err == nil) != tt.ok {
			t.Errorf("validate(%+v) = %v, want ok=%v", tt.resp, err, tt.ok)
		}
	}
}
