// Package lambdarunner runs Lambda functions of custom runtimes
// (provided.al2023) as local processes attached to an emulator's Runtime API.
//
// Each function gets a process, and more on demand for concurrent
// invocations: its deployment package's bootstrap, with the environment
// Lambda gives a function plus what it needs to reach the local stack. A
// process is restarted when it exits; all are replaced when the code or the
// environment changes, and stopped when the function is deleted.
// Every process runs in its own process group so that stopping the runner
// leaves nothing behind.
package lambdarunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config says where the runner keeps code and how functions reach the stack.
type Config struct {
	// Dir holds each function's deployment package and its unpacked code.
	Dir string
	// RuntimeAPI is host:port of the Runtime API. A function's process gets
	// AWS_LAMBDA_RUNTIME_API=<RuntimeAPI>/_localaws/p/<process id>/_runtime/<name>:
	// kumo's Runtime API path with a prefix naming the process, which the
	// front door strips, so it knows which process took which invocation.
	RuntimeAPI string
	// MaxConcurrency bounds the processes one function may have; more than
	// one are started only on demand (ScaleTo).
	MaxConcurrency int
	// Endpoint is the URL a function's AWS SDK should call (AWS_ENDPOINT_URL).
	Endpoint string
	// Region is given to functions as AWS_REGION and AWS_DEFAULT_REGION.
	Region string
	// Log receives the functions' output, each line prefixed with the name.
	Log io.Writer
	// AttachTimeout bounds how long a deploy waits for a new process to poll
	// the Runtime API for its first invocation.
	AttachTimeout time.Duration
	// OnExit is called after a function's process exited, on its own or
	// stopped, so the caller can fail the invocations it was running (as
	// Lambda reports Runtime.ExitError) instead of leaving them to time out.
	OnExit func(name, processID string, err error)
}

// Function is the part of a Lambda function's configuration a process needs.
type Function struct {
	Name         string
	Architecture string // x86_64 or arm64
	Handler      string
	MemoryMB     int
	Environment  map[string]string
}

// Status is a function's state as Lambda reports it in GetFunction.
type Status struct {
	State                  string // Active or Failed
	StateReasonCode        string
	StateReason            string
	LastUpdateStatus       string // Successful or Failed
	LastUpdateReasonCode   string
	LastUpdateStatusReason string
}

// Runner supervises one process per deployed function.
type Runner struct {
	cfg Config

	// mu guards funcs and each function's status and zipPath. It is only
	// held briefly, so reads (GetFunction, Invoke) never wait for a deploy.
	mu     sync.Mutex
	funcs  map[string]*function
	closed bool

	// current maps a function name to its first process: the one a deploy
	// waits for, and whose start-up failures InitError reports.
	current sync.Map
	// procs maps a process ID to every running process, for Attached and
	// Kill, which arrive while a deploy may hold the function's lock.
	procs sync.Map
}

// ProcessPrefix starts the Runtime API path of each function process.
const ProcessPrefix = "/_localaws/p/"

type function struct {
	// deployMu serialises deploys, reconfigurations and removal of one
	// function; it is held while a new process starts and attaches.
	deployMu sync.Mutex

	// Under Runner.mu:
	status  Status
	zipPath string

	// Under deployMu:
	cfg     Function
	codeDir string // empty while the function has no runnable code
	gen     int
	proc    *process
	extra   []*process // started by ScaleTo
	seq     int        // process IDs
	removed bool
}

// New returns a runner; cfg.Dir is created on first deploy.
func New(cfg Config) *Runner {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}

	// Processes run in their code directory, so paths must not be relative
	// to the caller's.
	if abs, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = abs
	}

	if cfg.MaxConcurrency < 1 {
		cfg.MaxConcurrency = 1
	}

	if cfg.AttachTimeout == 0 {
		cfg.AttachTimeout = 10 * time.Second
	}

	return &Runner{cfg: cfg, funcs: make(map[string]*function)}
}

// errClosed is returned for deploys after Shutdown.
var errClosed = errors.New("lambda runner is shut down")

// lock returns the function's record, created if needed, with its deployMu
// held.
func (r *Runner) lock(name string, create bool) (*function, error) {
	r.mu.Lock()

	if r.closed {
		r.mu.Unlock()
		return nil, errClosed
	}

	f, ok := r.funcs[name]
	if !ok {
		if !create {
			r.mu.Unlock()
			return nil, nil
		}

		f = &function{}
		r.funcs[name] = f
	}
	r.mu.Unlock()

	f.deployMu.Lock()

	if f.removed {
		// Removed while this call waited for deployMu.
		f.deployMu.Unlock()

		if create {
			return r.lock(name, create)
		}

		return nil, nil
	}

	return f, nil
}

// Deploy installs new code for a function and (re)starts its process. It
// returns once the process polls the Runtime API, so an invoke sent after
// Deploy returns finds a handler. A package that cannot run is reported as a
// *BundleError and recorded in the function's Status: a new function becomes
// Failed; an existing one keeps running its previous code with its last
// update Failed, as Lambda does.
func (r *Runner) Deploy(ctx context.Context, fn Function, zipBytes []byte) error {
	f, err := r.lock(fn.Name, true)
	if err != nil {
		return err
	}
	defer f.deployMu.Unlock()

	f.gen++
	base := filepath.Join(r.cfg.Dir, fn.Name)
	codeDir := filepath.Join(base, "code-"+strconv.Itoa(f.gen))

	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("create function directory: %w", err)
	}

	zipPath := filepath.Join(base, "code-"+strconv.Itoa(f.gen)+".zip")
	if err := os.WriteFile(zipPath, zipBytes, 0o644); err != nil {
		return fmt.Errorf("keep deployment package: %w", err)
	}

	f.cfg = fn

	if err := Unpack(zipBytes, fn.Architecture, codeDir); err != nil {
		_ = os.RemoveAll(codeDir)

		var be *BundleError
		if !errors.As(err, &be) {
			_ = os.Remove(zipPath)
			return err
		}

		// Lambda serves the package it was given even when it cannot run.
		r.mu.Lock()
		r.replaceZip(f, zipPath)
		f.status.LastUpdateStatus = "Failed"
		f.status.LastUpdateReasonCode = be.Code
		f.status.LastUpdateStatusReason = be.Reason

		if f.codeDir == "" {
			f.status.State = "Failed"
			f.status.StateReasonCode = be.Code
			f.status.StateReason = be.Reason
		}
		r.mu.Unlock()

		return be
	}

	r.mu.Lock()
	r.replaceZip(f, zipPath)
	f.status = Status{State: "Active", LastUpdateStatus: "Successful"}
	r.mu.Unlock()

	oldDir := f.codeDir
	f.codeDir = codeDir

	err = r.restart(ctx, f)

	if oldDir != "" {
		_ = os.RemoveAll(oldDir)
	}

	return err
}

// replaceZip records the package a function serves; r.mu is held.
func (r *Runner) replaceZip(f *function, zipPath string) {
	if f.zipPath != "" && f.zipPath != zipPath {
		_ = os.Remove(f.zipPath)
	}

	f.zipPath = zipPath
}

// Reconfigure applies a configuration change. Only what the process sees
// (environment, handler, memory, architecture) restarts it, as a new Lambda
// execution environment would pick it up.
func (r *Runner) Reconfigure(ctx context.Context, fn Function) error {
	f, err := r.lock(fn.Name, false)
	if err != nil || f == nil {
		return err
	}
	defer f.deployMu.Unlock()

	same := f.cfg.Handler == fn.Handler && f.cfg.MemoryMB == fn.MemoryMB &&
		f.cfg.Architecture == fn.Architecture && maps.Equal(f.cfg.Environment, fn.Environment)
	f.cfg = fn

	if same || f.codeDir == "" {
		return nil
	}

	return r.restart(ctx, f)
}

// Remove stops a function's process and deletes its code.
func (r *Runner) Remove(name string) {
	f, err := r.lock(name, false)
	if err != nil || f == nil {
		return
	}
	defer f.deployMu.Unlock()

	r.mu.Lock()
	delete(r.funcs, name)
	r.mu.Unlock()

	f.removed = true
	r.current.CompareAndDelete(name, f.proc)
	r.stopAll(f)

	_ = os.RemoveAll(filepath.Join(r.cfg.Dir, name))
}

// Status returns a function's state; ok is false for a function the runner
// has never been given code for.
func (r *Runner) Status(name string) (Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	f, ok := r.funcs[name]
	if !ok || f.status.State == "" {
		return Status{}, false
	}

	return f.status, true
}

// ZipPath returns the path of the deployment package a function was last
// given, for serving it back as GetFunction's Code.Location.
func (r *Runner) ZipPath(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	f, ok := r.funcs[name]
	if !ok || f.zipPath == "" {
		return "", false
	}

	return f.zipPath, true
}

// Attached records that a process polled the Runtime API.
func (r *Runner) Attached(processID string) {
	if p, ok := r.procs.Load(processID); ok {
		p.(*process).markAttached()
	}
}

// Kill ends a process at once; its supervisor starts a new one. Lambda
// does this to an execution environment whose invocation timed out, so a
// hung handler does not block the next invocation.
func (r *Runner) Kill(processID string) {
	if p, ok := r.procs.Load(processID); ok {
		p.(*process).kill()
	}
}

// ScaleTo makes sure a function has processes for n concurrent invocations,
// up to MaxConcurrency, as Lambda starts another execution environment for
// each concurrent invocation. It never waits: a deploy in progress wins, and
// each invocation is picked up by whichever process polls first.
func (r *Runner) ScaleTo(name string, n int) {
	r.mu.Lock()
	f, ok := r.funcs[name]
	closed := r.closed
	r.mu.Unlock()

	if !ok || closed || n <= 1 || !f.deployMu.TryLock() {
		return
	}
	defer f.deployMu.Unlock()

	if f.removed || f.proc == nil || f.codeDir == "" {
		return
	}

	for 1+len(f.extra) < min(n, r.cfg.MaxConcurrency) {
		p := r.newProcess(f)
		f.extra = append(f.extra, p)
		go p.supervise()
	}
}

// newProcess prepares a process for the function's current code; f.deployMu
// is held.
func (r *Runner) newProcess(f *function) *process {
	f.seq++
	id := f.cfg.Name + "." + strconv.Itoa(f.gen) + "." + strconv.Itoa(f.seq)
	p := newProcess(f.cfg.Name, id, f.codeDir, r.environment(f, id), r.cfg)
	r.procs.Store(id, p)

	return p
}

// stopAll stops every process of a function; f.deployMu is held.
func (r *Runner) stopAll(f *function) {
	procs := append([]*process{}, f.extra...)
	if f.proc != nil {
		procs = append(procs, f.proc)
	}

	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() {
			p.stop()
			r.procs.CompareAndDelete(p.id, p)
		})
	}

	wg.Wait()

	f.proc, f.extra = nil, nil
}

// Shutdown stops every process and waits for them to exit; later deploys
// fail.
func (r *Runner) Shutdown() {
	r.mu.Lock()
	r.closed = true
	names := slices.Sorted(maps.Keys(r.funcs))
	r.mu.Unlock()

	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() { r.stopFunction(name) })
	}

	wg.Wait()
}

func (r *Runner) stopFunction(name string) {
	r.mu.Lock()
	f, ok := r.funcs[name]
	r.mu.Unlock()

	if !ok {
		return
	}

	f.deployMu.Lock()
	defer f.deployMu.Unlock()

	f.removed = true
	r.stopAll(f)
}

// restart replaces the function's process with one running its current
// code and configuration, and waits for it to attach; f.deployMu is held.
func (r *Runner) restart(ctx context.Context, f *function) error {
	r.stopAll(f)

	p := r.newProcess(f)
	f.proc = p
	r.current.Store(f.cfg.Name, p)
	go p.supervise()

	select {
	case <-p.attached:
		return nil
	case <-p.exited:
		// Failed during init: invokes report it (see InitError).
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %s to poll the Runtime API: %w", f.cfg.Name, ctx.Err())
	case <-time.After(r.cfg.AttachTimeout):
		// A bootstrap that crashes at start-up or is slow to initialise is
		// not a deploy failure on Lambda either: invokes will report it.
		return nil
	}
}

// environment is what Lambda sets for a custom runtime, the function's own
// variables, and the local stack's endpoint and test credentials. Reserved
// names win over the function's variables, as on Lambda.
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
func (r *Runner) environment(f *function, processID string) []string {
	env := map[string]string{}
	maps.Copy(env, f.cfg.Environment)

	mem := f.cfg.MemoryMB
	if mem == 0 {
		mem = 128
	}

	reserved := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          r.cfg.RuntimeAPI + ProcessPrefix + processID + "/_runtime/" + f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_NAME":        f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(mem),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.cfg.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local/" + processID,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        f.cfg.Handler,
		"LAMBDA_TASK_ROOT":                f.codeDir,
		"LAMBDA_RUNTIME_DIR":              f.codeDir,
		"AWS_REGION":                      r.cfg.Region,
		"AWS_DEFAULT_REGION":              r.cfg.Region,
		"AWS_ACCESS_KEY_ID":               "test",
		"AWS_SECRET_ACCESS_KEY":           "test",
		"AWS_ENDPOINT_URL":                r.cfg.Endpoint,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	}
	maps.Copy(env, reserved)
	// Credentials from the host would point the function at a real account.
	delete(env, "AWS_SESSION_TOKEN")
	delete(env, "AWS_PROFILE")

	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}

	return out
}

// process is one function's bootstrap, restarted with backoff when it exits.
type process struct {
	name    string
	id      string
	dir     string
	env     []string
	cfg     Config
	stopCh  chan struct{}
	done    chan struct{}
	stopped sync.Once

	attachOnce sync.Once
	attached   chan struct{}
	// exitOnce/exited report the first exit, so a deploy whose bootstrap
	// dies at start-up does not wait out the attach timeout.
	exitOnce sync.Once
	exited   chan struct{}

	mu  sync.Mutex
	cmd *exec.Cmd
	// polled says the current run has polled the Runtime API; initErr is
	// why the last run exited without ever polling (failed during init).
	polled  bool
	initErr error
}

func newProcess(name, id, dir string, env []string, cfg Config) *process {
	return &process{
		name: name, id: id, dir: dir, env: env, cfg: cfg,
		stopCh:   make(chan struct{}),
		done:     make(chan struct{}),
		attached: make(chan struct{}),
		exited:   make(chan struct{}),
	}
}

func (p *process) markAttached() {
	p.attachOnce.Do(func() { close(p.attached) })

	p.mu.Lock()
	p.polled = true
	p.initErr = nil
	p.mu.Unlock()
}

// InitError returns why a function's bootstrap last exited before polling
// for an invocation, while it is being restarted; nil once it polls. Lambda
// fails invocations of such a function at once (Runtime.ExitError) rather
// than letting them wait for a handler that never comes.
func (r *Runner) InitError(name string) error {
	p, ok := r.current.Load(name)
	if !ok {
		return nil
	}

	pr := p.(*process)
	pr.mu.Lock()
	defer pr.mu.Unlock()

	return pr.initErr
}

// Restart backoff: quick enough that a crash costs one invocation, slow
// enough that a bootstrap failing at start-up does not spin a core.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// A process that ran this long is considered healthy: the next crash
	// starts from minBackoff again.
	healthyRun = 10 * time.Second
)

func (p *process) supervise() {
	defer close(p.done)

	backoff := minBackoff

	for {
		started := time.Now()
		err := p.runOnce()

		select {
		case <-p.stopCh:
			// Stopped for new code, a new configuration or deletion:
			// whatever it was running will never be answered.
			if p.cfg.OnExit != nil {
				p.cfg.OnExit(p.name, p.id, err)
			}

			return
		default:
		}

		// A log that cannot be written has nowhere to report it.
		_, _ = fmt.Fprintf(p.cfg.Log, "lambda[%s] bootstrap exited (%v); restarting in %s\n", p.id, err, backoff)

		p.mu.Lock()
		if !p.polled {
			p.initErr = err
		}
		p.mu.Unlock()

		p.exitOnce.Do(func() { close(p.exited) })

		if p.cfg.OnExit != nil {
			p.cfg.OnExit(p.name, p.id, err)
		}

		if time.Since(started) > healthyRun {
			backoff = minBackoff
		}

		select {
		case <-p.stopCh:
			return
		case <-time.After(backoff):
		}

		backoff = min(backoff*2, maxBackoff)
	}
}

// runOnce starts bootstrap in its own process group and waits for it. It
// always returns an error, saying why bootstrap is not running: a function
// process is not expected to exit, even with status 0.
func (p *process) runOnce() error {
	cmd := exec.Command(filepath.Join(p.dir, "bootstrap"))
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout = &prefixWriter{w: p.cfg.Log, prefix: "lambda[" + p.id + "] "}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	p.mu.Lock()
	select {
	case <-p.stopCh:
		p.mu.Unlock()
		return errors.New("stopped")
	default:
	}

	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return err
	}

	p.cmd = cmd
	p.polled = false
	p.mu.Unlock()

	err := cmd.Wait()
	// Whatever bootstrap started in its group must not outlive it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()

	if err == nil {
		return errors.New("exit status 0")
	}

	return err
}

// kill SIGKILLs the running bootstrap's process group, if any.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// stopGrace is how long a function may take to exit after SIGTERM, like the
// shutdown phase Lambda gives an execution environment.
const stopGrace = 2 * time.Second

// stop ends the process group (bootstrap and anything it started) and waits
// for the supervisor to return.
func (p *process) stop() {
	p.stopped.Do(func() {
		p.mu.Lock()
		close(p.stopCh)
		cmd := p.cmd
		p.mu.Unlock()

		if cmd != nil && cmd.Process != nil {
			pgid := cmd.Process.Pid
			_ = syscall.Kill(-pgid, syscall.SIGTERM)

			select {
			case <-p.done:
			case <-time.After(stopGrace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}
	})
	<-p.done
}

// prefixWriter prefixes each line a function writes with its name, so the
// stack's log says which function said what.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	mid    bool
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()

	out := make([]byte, 0, len(b)+len(pw.prefix))

	for _, c := range b {
		if !pw.mid {
			out = append(out, pw.prefix...)
			pw.mid = true
		}

		out = append(out, c)

		if c == '\n' {
			pw.mid = false
		}
	}

	if _, err := pw.w.Write(out); err != nil {
		return 0, err
	}

	return len(b), nil
}
