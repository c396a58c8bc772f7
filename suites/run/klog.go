package run

import (
	"flag"
	"io"

	"k8s.io/klog/v2"
)

// RouteKlog sends klog (client-go's and controller-runtime's logs) to w
// only. Without the threshold klog also copies errors to stderr, which
// Ginkgo shows with whatever spec runs at the time, passing or not.
func RouteKlog(w io.Writer) error {
	klog.SetOutput(w)
	klog.LogToStderr(false)
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	return fs.Set("stderrthreshold", "FATAL")
}
