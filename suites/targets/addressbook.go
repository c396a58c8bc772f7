package targets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// addressLookup is what the address book serves: a Gateway listener's
// loopback address, waiting until it is bound.
type addressLookup func(ctx context.Context, gateway types.NamespacedName, port uint32) (string, error)

// addressBook lets processes other than the one running the sim target ask
// it where a Gateway listener is: the sim binds ephemeral ports that only
// that process knows. It listens on loopback only.
type addressBook struct {
	server *http.Server
	url    string
}

type addressReply struct {
	Address string `json:"address,omitempty"`
	Error   string `json:"error,omitempty"`
}

func serveAddressBook(lookup addressLookup) (*addressBook, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("address book: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway-address", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		port, err := strconv.ParseUint(q.Get("port"), 10, 32)
		var reply addressReply
		if err != nil {
			reply.Error = "bad port: " + err.Error()
		} else {
			nn := types.NamespacedName{Namespace: q.Get("namespace"), Name: q.Get("name")}
			reply.Address, err = lookup(r.Context(), nn, uint32(port))
			if err != nil {
				reply.Error = err.Error()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(reply)
	})
	b := &addressBook{server: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + l.Addr().String()}
	go b.server.Serve(l)
	return b, nil
}

func (b *addressBook) close() error {
	err := b.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// lookupAddress asks the address book at base; the request lasts as long
// as ctx, since the book waits for the listener.
func lookupAddress(ctx context.Context, client *http.Client, base string, gateway types.NamespacedName, port uint32) (string, error) {
	q := url.Values{"namespace": {gateway.Namespace}, "name": {gateway.Name}, "port": {strconv.FormatUint(uint64(port), 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/gateway-address?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking the sim target's address book: %w", err)
	}
	defer resp.Body.Close()
	var reply addressReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&reply); err != nil {
		return "", fmt.Errorf("reading the address book's answer: %w", err)
	}
	if reply.Error != "" {
		return "", errors.New(reply.Error)
	}
	return reply.Address, nil
}
