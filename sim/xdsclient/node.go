package xdsclient

import (
	"errors"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
)

// userAgent is the user_agent_name of a node that names none.
const userAgent = "keyconform-sim"

// nodeOf returns the node the client sends: a copy of opts.Node, or one
// made of opts.NodeID and opts.NodeCluster. Giving both ways is an error
// rather than a merge, so a caller never wonders which field won.
func nodeOf(opts Options) (*corev3.Node, error) {
	node := &corev3.Node{Id: opts.NodeID, Cluster: opts.NodeCluster}
	if opts.Node != nil {
		if opts.NodeID != "" || opts.NodeCluster != "" {
			return nil, errors.New("xds node given twice: set Node, or NodeID and NodeCluster, not both")
		}
		node = proto.Clone(opts.Node).(*corev3.Node)
	}
	if node.GetId() == "" {
		return nil, errors.New("xds node id is empty: give the Gateway's <namespace>/<name>")
	}
	if node.GetUserAgentName() == "" {
		node.UserAgentName = userAgent
	}
	return node, nil
}
