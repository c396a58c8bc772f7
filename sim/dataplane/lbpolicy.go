package dataplane

import (
	"errors"
	"fmt"
	"math"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	commonlbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/common/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	randomv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/random/v3"
	roundrobinv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The load balancing policies the sim implements, by their extension names.
const (
	policyRoundRobin   = "envoy.load_balancing_policies.round_robin"
	policyLeastRequest = "envoy.load_balancing_policies.least_request"
	policyRandom       = "envoy.load_balancing_policies.random"
)

type lbKind uint8

const (
	lbRoundRobin lbKind = iota
	lbLeastRequest
	lbRandom
)

// lbConfig is a cluster's compiled load balancing policy: what Envoy's
// RoundRobinLoadBalancer, LeastRequestLoadBalancer or RandomLoadBalancer is
// built from, whether the cluster gives it as load_balancing_policy or as
// the legacy lb_policy with common_lb_config.
type lbConfig struct {
	kind lbKind
	// choiceCount, fullScan and bias are the least request policy's
	// choice_count (default 2), selection_method FULL_SCAN and
	// active_request_bias (default 1.0).
	choiceCount uint32
	fullScan    bool
	bias        float64
	// localityWeighted is locality_weighted_lb_config: pick a locality by
	// its load_balancing_weight first.
	localityWeighted bool
	// failOnPanic is zone_aware_lb_config.fail_traffic_on_panic.
	failOnPanic bool
	// panicThreshold is common_lb_config.healthy_panic_threshold as Envoy
	// rounds it, in percent (default 50).
	panicThreshold uint64
}

// compileLoadBalancing reads the cluster's policy as Envoy's ClusterInfoImpl
// does (source/common/upstream/upstream_impl.cc): load_balancing_policy when
// set (lb_policy and the legacy *_lb_config fields are then not read), else
// lb_policy through LegacyLbPolicyConfigHelper, which maps each enum value
// to the same extension and takes the locality settings from
// common_lb_config.
func compileLoadBalancing(c *clusterv3.Cluster) (*lbConfig, error) {
	cfg := &lbConfig{choiceCount: 2, bias: 1, panicThreshold: 50}
	common := c.GetCommonLbConfig()
	if t := common.GetHealthyPanicThreshold(); t != nil {
		// PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT(..., 100, 50).
		cfg.panicThreshold = uint64(math.Round(t.GetValue()))
	}
	if c.GetLoadBalancingPolicy() != nil {
		if common.GetZoneAwareLbConfig() != nil || common.GetLocalityWeightedLbConfig() != nil || common.GetConsistentHashingLbConfig() != nil {
			return nil, errors.New("cluster: load_balancing_policy cannot be combined with partial fields (zone_aware_lb_config, locality_weighted_lb_config, consistent_hashing_lb_config) of common_lb_config")
		}
		if err := cfg.compilePolicy(c.GetLoadBalancingPolicy()); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	switch c.GetLbPolicy() {
	case clusterv3.Cluster_ROUND_ROBIN:
		cfg.kind = lbRoundRobin
	case clusterv3.Cluster_LEAST_REQUEST:
		cfg.kind = lbLeastRequest
		lr := c.GetLeastRequestLbConfig()
		if n := lr.GetChoiceCount(); n != nil {
			cfg.choiceCount = n.GetValue()
		}
		cfg.setBias(lr.GetActiveRequestBias())
	case clusterv3.Cluster_RANDOM:
		cfg.kind = lbRandom
	case clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG:
		return nil, errors.New("cluster: field load_balancing_policy need to be set")
	default:
		return nil, fmt.Errorf("lb_policy %s is not implemented by the sim (it implements ROUND_ROBIN, LEAST_REQUEST and RANDOM)", c.GetLbPolicy())
	}
	// LoadBalancerConfigHelper::localityLbConfigFromCommonLbConfig.
	cfg.localityWeighted = common.GetLocalityWeightedLbConfig() != nil
	cfg.failOnPanic = common.GetZoneAwareLbConfig().GetFailTrafficOnPanic()
	return cfg, nil
}

// compilePolicy takes the first policy of the list, as Envoy takes the first
// whose typed_config type it has a factory for. Envoy has factories for
// more policies than the sim implements, so a first policy the sim does not
// implement is rejected rather than skipped.
func (cfg *lbConfig) compilePolicy(p *clusterv3.LoadBalancingPolicy) error {
	if len(p.GetPolicies()) == 0 {
		return errors.New("load_balancing_policy has no policies")
	}
	ext := p.GetPolicies()[0].GetTypedExtensionConfig()
	const path = "load_balancing_policy.policies[0].typed_extension_config.typed_config"
	tc := ext.GetTypedConfig()
	if tc == nil {
		return fmt.Errorf("%s: missing for %q", path, ext.GetName())
	}
	var m proto.Message
	switch tc.GetTypeUrl() {
	case typeURL(&leastrequestv3.LeastRequest{}):
		m = &leastrequestv3.LeastRequest{}
	case typeURL(&roundrobinv3.RoundRobin{}):
		m = &roundrobinv3.RoundRobin{}
	case typeURL(&randomv3.Random{}):
		m = &randomv3.Random{}
	default:
		return fmt.Errorf("load_balancing_policy.policies[0] %q (%s) is not implemented by the sim (it implements %s, %s and %s)",
			ext.GetName(), tc.GetTypeUrl(), policyLeastRequest, policyRoundRobin, policyRandom)
	}
	if err := anypb.UnmarshalTo(tc, m, proto.UnmarshalOptions{}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := checkFields(m, "cluster", path); err != nil {
		return err
	}
	var locality *commonlbv3.LocalityLbConfig
	switch m := m.(type) {
	case *leastrequestv3.LeastRequest:
		cfg.kind = lbLeastRequest
		if n := m.GetChoiceCount(); n != nil {
			cfg.choiceCount = n.GetValue()
		}
		cfg.fullScan = m.GetSelectionMethod() == leastrequestv3.LeastRequest_FULL_SCAN
		cfg.setBias(m.GetActiveRequestBias())
		locality = m.GetLocalityLbConfig()
	case *roundrobinv3.RoundRobin:
		cfg.kind = lbRoundRobin
		locality = m.GetLocalityLbConfig()
	case *randomv3.Random:
		cfg.kind = lbRandom
		locality = m.GetLocalityLbConfig()
	}
	// LoadBalancerConfigHelper::localityLbConfigFromProto.
	cfg.localityWeighted = locality.GetLocalityWeightedLbConfig() != nil
	cfg.failOnPanic = locality.GetZoneAwareLbConfig().GetFailTrafficOnPanic()
	return nil
}

// setBias is LeastRequestLoadBalancer::refresh: the bias, 1.0 when unset or
// when the value is negative or NaN.
func (cfg *lbConfig) setBias(b *corev3.RuntimeDouble) {
	if b == nil {
		return
	}
	cfg.bias = b.GetDefaultValue()
	if cfg.bias < 0 || math.IsNaN(cfg.bias) {
		cfg.bias = 1
	}
}

func typeURL(m proto.Message) string {
	return "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
}
