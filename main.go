// Command manager runs the resize-operator: the ResizePipeline controller,
// with health probes, metrics and optional leader election.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
	"github.com/resize-operator/resize-operator/controllers"
	"github.com/resize-operator/resize-operator/lambda/bundle"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pipelinesv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		awsRegion               string
		awsEndpointURL          string
		resyncPeriod            time.Duration
		maxConcurrentReconciles int
		leaderElect             bool
		metricsAddr             string
		secureMetrics           bool
		enableHTTP2             bool
		probeAddr               string
	)
	flag.StringVar(&awsRegion, "aws-region", "", "Default AWS region for pipelines that set no spec.region; when empty, AWS_REGION or the shared config's region.")
	flag.StringVar(&awsEndpointURL, "aws-endpoint-url", "", "Send every AWS call to this endpoint, e.g. http://127.0.0.1:4566 for the local stack (S3 then uses path-style addressing); when empty, AWS's own endpoints.")
	flag.DurationVar(&resyncPeriod, "resync-period", controllers.DefaultResyncPeriod, "How often a pipeline is compared with AWS to put back changes made outside the controller.")
	flag.IntVar(&maxConcurrentReconciles, "max-concurrent-reconciles", 2, "How many pipelines are reconciled at once.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time; off when not given (config/default turns it on).")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, e.g. :8443 (HTTPS) or :8080 (HTTP with --metrics-secure=false); 0 turns it off.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, to callers the API server authenticates and authorizes for GET /metrics (ClusterRole metrics-reader).")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Allow HTTP/2 on the metrics endpoint; off by default against the HTTP/2 Stream Cancellation and Rapid Reset CVEs.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics}
	if !enableHTTP2 {
		metricsOpts.TLSOpts = append(metricsOpts.TLSOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	if secureMetrics {
		// TokenReviews and SubjectAccessReviews against the API server, as
		// kubebuilder does; the certificate is self-signed unless one is
		// mounted at metricsserver.Options.CertDir.
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOpts,
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "resize-operator.pipelines.resize.dev",
	})
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}

	// The AWS call metrics see every call the clients make; the pipeline
	// gauge reads the manager's cache.
	metrics := controllers.NewMetrics(mgr.GetCache())
	if err := metrics.Register(ctrlmetrics.Registry); err != nil {
		log.Error(err, "unable to register the metrics")
		os.Exit(1)
	}
	awsClients, err := controllers.NewClientFactory(context.Background(), controllers.AWSOptions{
		Region:      awsRegion,
		EndpointURL: awsEndpointURL,
		Recorder:    metrics,
	})
	if err != nil {
		log.Error(err, "unable to load the AWS configuration")
		os.Exit(1)
	}

	if err := (&controllers.ResizePipelineReconciler{
		Client:        mgr.GetClient(),
		Events:        mgr.GetEventRecorder("resize-operator"),
		AWS:           awsClients,
		Bundle:        &controllers.FuncBundle{ZipFunc: bundle.Zip, SHA256Func: bundle.SHA256},
		DefaultRegion: awsClients.DefaultRegion(),
		EndpointURL:   awsEndpointURL,
		ResyncPeriod:  resyncPeriod,
		// The ACK provisioner is always registered: it decides Auto by
		// asking discovery whether the StateMachine CRD is served, and
		// starts its watch on StateMachines only then, so ACK may be
		// installed after the controller.
		Provisioners: map[pipelinesv1alpha1.Provisioner]controllers.StateMachineProvisioner{
			pipelinesv1alpha1.ProvisionerACK: controllers.NewACKStateMachines(mgr),
		},
	}).SetupWithManager(mgr, maxConcurrentReconciles); err != nil {
		log.Error(err, "unable to set up the controller", "controller", "ResizePipeline")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		os.Exit(1)
	}

	log.Info("starting the manager", "region", awsClients.DefaultRegion(), "endpoint", awsEndpointURL, "resyncPeriod", resyncPeriod)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
}
