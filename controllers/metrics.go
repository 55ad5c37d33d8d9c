package controllers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// Metric names. They sit beside controller-runtime's controller_runtime_*
// and workqueue_* metrics on the same endpoint.
const (
	MetricAWSCalls        = "resize_aws_calls_total"
	MetricAWSCallDuration = "resize_aws_call_duration_seconds"
	MetricPipelines       = "resize_pipelines"
)

// pipelineListTimeout bounds the cache read of one scrape; the cache answers
// from memory, so only an unsynced cache ever waits.
const pipelineListTimeout = 5 * time.Second

// Metrics is the controller's own Prometheus metrics: AWS calls by service,
// operation and outcome, their latency, and pipelines by Ready status. It is
// a CallRecorder, so the client factory feeds it every AWS call.
type Metrics struct {
	calls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	pipelines *pipelineCollector
}

// NewMetrics builds the metrics; pipelines are counted from reader (the
// manager's cache) at scrape time, so the gauge can never drift from what
// the cluster holds, deletions included.
func NewMetrics(reader client.Reader) *Metrics {
	return &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricAWSCalls,
			Help: "AWS API calls made by the controller, by service, operation and outcome (Success or the AWS error code); SDK retries count once.",
		}, []string{"service", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricAWSCallDuration,
			Help: "Latency of the controller's AWS API calls, SDK retries included, by service and operation.",
			// From a cached read on a warm connection to a CreateFunction
			// that uploads the bundle after IAM retries.
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"service", "operation"}),
		pipelines: &pipelineCollector{
			reader: reader,
			desc: prometheus.NewDesc(MetricPipelines,
				"ResizePipelines by the status of their Ready condition (Unknown when it is not set yet).",
				[]string{"ready"}, nil),
		},
	}
}

// Register adds the metrics to reg, normally controller-runtime's
// metrics.Registry.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.calls, m.duration, m.pipelines} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// RecordAWSCall implements CallRecorder.
func (m *Metrics) RecordAWSCall(_ context.Context, c AWSCall) {
	m.calls.WithLabelValues(c.Service, c.Operation, c.Outcome).Inc()
	m.duration.WithLabelValues(c.Service, c.Operation).Observe(c.Duration.Seconds())
}

// pipelineCollector computes resize_pipelines on every scrape.
type pipelineCollector struct {
	reader client.Reader
	desc   *prometheus.Desc
}

func (p *pipelineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

func (p *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineListTimeout)
	defer cancel()
	var list pipelinesv1alpha1.ResizePipelineList
	if err := p.reader.List(ctx, &list); err != nil {
		// A missing sample says "unknown"; zeros would claim there are no
		// pipelines.
		logf.Log.WithName("metrics").Error(err, "unable to list ResizePipelines for the resize_pipelines gauge")
		return
	}
	counts := map[metav1.ConditionStatus]int{
		metav1.ConditionTrue: 0, metav1.ConditionFalse: 0, metav1.ConditionUnknown: 0,
	}
	for i := range list.Items {
		st := metav1.ConditionUnknown
		if c := meta.FindStatusCondition(list.Items[i].Status.Conditions, pipelinesv1alpha1.ConditionReady); c != nil {
			st = c.Status
		}
		counts[st]++
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n), string(st))
	}
}

// CallRecorders sends every call to each recorder in turn, so the metrics
// and a test's own recorder can watch the same clients.
type CallRecorders []CallRecorder

// RecordAWSCall implements CallRecorder.
func (rs CallRecorders) RecordAWSCall(ctx context.Context, c AWSCall) {
	for _, r := range rs {
		r.RecordAWSCall(ctx, c)
	}
}
