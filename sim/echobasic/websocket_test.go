package echobasic

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// TestWebSocket does what the suite's WebSocket backend test does: a text
// and a binary message, each echoed.
func TestWebSocket(t *testing.T) {
	c := start(t, baseEnv(), nil)
	for _, path := range []string{"/ws", "//ws"} {
		t.Run(path, func(t *testing.T) {
			ws, err := websocket.Dial("ws://"+c.addr(t, 3000)+path, "", "ws://gateway/TestWebSocket")
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			ws.SetDeadline(time.Now().Add(10 * time.Second))

			var text string
			if err := websocket.Message.Send(ws, "Websocket Support!"); err != nil {
				t.Fatal(err)
			}
			if err := websocket.Message.Receive(ws, &text); err != nil || text != "Websocket Support!" {
				t.Fatalf("text echo %q, %v", text, err)
			}
			var bin []byte
			if err := websocket.Message.Send(ws, []byte{1, 2, 3, 4, 5, 6, 7}); err != nil {
				t.Fatal(err)
			}
			if err := websocket.Message.Receive(ws, &bin); err != nil || !bytes.Equal(bin, []byte{1, 2, 3, 4, 5, 6, 7}) {
				t.Fatalf("binary echo %v, %v", bin, err)
			}
		})
	}
	if !strings.Contains(c.log.String(), "established websocket connection ws://gateway/testwebsocket\n") {
		t.Errorf("log:\n%s", c.log.String())
	}
}

func TestWebSocketHandshakeRefusals(t *testing.T) {
	c := start(t, baseEnv(), nil)
	const upgrade = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	tests := []struct {
		name    string
		request string
		status  int
	}{
		{name: "no origin", request: upgrade + "Sec-WebSocket-Version: 13\r\n\r\n", status: 403},
		{name: "unsupported version", request: upgrade + "Origin: http://o\r\nSec-WebSocket-Version: 7\r\n\r\n", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := rawRoundTrip(t, c.addr(t, 3000), tt.request)
			if err != nil || resp.status != tt.status {
				t.Fatalf("got %+v, %v; want %d", resp, err, tt.status)
			}
		})
	}
}

// Close ends the WebSockets, which net/http's Close leaves to their
// handler, and pending delays.
func TestCloseEndsEverything(t *testing.T) {
	c := start(t, baseEnv(), nil)
	ws, err := websocket.Dial("ws://"+c.addr(t, 3000)+"/ws", "", "http://o/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	conn, err := net.Dial("tcp", c.addr(t, 3000))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /?delay=1h HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	delayed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(conn)
		delayed <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the delayed request arrive
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ws.SetDeadline(time.Now().Add(5 * time.Second))
	var msg string
	if err := websocket.Message.Receive(ws, &msg); err == nil {
		t.Errorf("WebSocket still open after Close: %q", msg)
	}
	select {
	case <-delayed:
	case <-time.After(5 * time.Second):
		t.Error("delayed request still pending after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
