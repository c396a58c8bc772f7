package reconcile

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// These join controller-runtime's own metrics on the manager's metrics
// endpoint.
var (
	translationsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyconform_translations_total",
		Help: "Global translations completed (read, translate, publish, status writes).",
	})
	translationSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "keyconform_translation_duration_seconds",
		Help:    "Time from reading the cache to the end of publishing, per translation.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	rejectedProxiesTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyconform_xds_rejected_proxies_total",
		Help: "Gateway configurations that failed validation and were not published.",
	})
	statusWritesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyconform_status_writes_total",
		Help: "Status updates written, by kind.",
	}, []string{"kind"})
)

func init() {
	metrics.Registry.MustRegister(translationsTotal, translationSeconds, rejectedProxiesTotal, statusWritesTotal)
}
