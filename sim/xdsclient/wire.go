package xdsclient

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// wire is one form of ADS on the stream, state of the world or delta: how
// the subscription state becomes requests and responses become updates of
// it.
type wire interface {
	// apiType is the form's name in Envoy's ApiConfigSource.api_type.
	apiType() string
	open(ctx context.Context, conn *grpc.ClientConn) (grpc.ClientStream, error)
	recv(stream grpc.ClientStream) (response, error)
	// request encodes the request for typeURL that s is due, answering a
	// response when ans is set. node is nil when it is not to be sent.
	request(typeURL string, s *subscription, node *corev3.Node, ans *answer) proto.Message
}

// response is one response of either form.
type response interface {
	header() (typeURL, version, nonce string)
	// resolve returns what the Handler gets for this response, the type's
	// whole set, and the set to hold if it accepts them (nil when every
	// response is whole). An error rejects the response as malformed
	// before the Handler sees it. It runs with the client's lock held.
	resolve(s *subscription) (resources []*anypb.Any, held map[string]*discoveryv3.Resource, err error)
}

// sotwWire is state-of-the-world ADS (StreamAggregatedResources): each
// request states the whole subscription and the last accepted version,
// each response holds the whole set of its type.
type sotwWire struct{}

func (sotwWire) apiType() string { return "GRPC" }

func (sotwWire) open(ctx context.Context, conn *grpc.ClientConn) (grpc.ClientStream, error) {
	return discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
}

func (sotwWire) recv(stream grpc.ClientStream) (response, error) {
	resp := &discoveryv3.DiscoveryResponse{}
	if err := stream.RecvMsg(resp); err != nil {
		return nil, err
	}
	return sotwResponse{resp}, nil
}

func (sotwWire) request(typeURL string, s *subscription, node *corev3.Node, ans *answer) proto.Message {
	req := &discoveryv3.DiscoveryRequest{
		Node:          node,
		TypeUrl:       typeURL,
		VersionInfo:   s.version,
		ResponseNonce: s.nonce,
	}
	if ans != nil {
		req.ResponseNonce, req.ErrorDetail = ans.nonce, ans.detail
	}
	if !s.wildcard {
		req.ResourceNames = s.names
	}
	return req
}

type sotwResponse struct{ *discoveryv3.DiscoveryResponse }

func (r sotwResponse) header() (typeURL, version, nonce string) {
	return r.GetTypeUrl(), r.GetVersionInfo(), r.GetNonce()
}

func (r sotwResponse) resolve(*subscription) ([]*anypb.Any, map[string]*discoveryv3.Resource, error) {
	return r.GetResources(), nil, nil
}
