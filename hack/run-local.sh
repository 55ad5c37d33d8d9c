#!/usr/bin/env bash
# Runs the whole pipeline on this machine, in the foreground: the local AWS
# stack on 127.0.0.1:4566, a Kubernetes API server with the CRDs installed,
# and the controller pointed at both. Ctrl-C stops everything.
#
# Every run starts clean: .local/ (AWS state, Lambda code, kubeconfig, logs)
# is wiped at start, since neither the API server's etcd nor the AWS stack
# keeps state across runs and a half-kept state would disagree with itself.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$root/bin
local_dir=$root/.local
endpoint=http://127.0.0.1:4566
region=${AWS_REGION:-ca-central-1}

for b in localaws localkube manager; do
	[[ -x $bin/$b ]] || { echo "run-local: $bin/$b is missing; run it through 'make run-local'" >&2; exit 1; }
done
if curl -fsS "$endpoint/_localaws/health" >/dev/null 2>&1; then
	echo "run-local: something already serves $endpoint (another make run-local or a test run?); stop it first" >&2
	exit 1
fi

rm -rf "$local_dir"
mkdir -p "$local_dir/logs"
pids=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "run-local: stopping..."
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "run-local: stopped; logs are in .local/logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for LOG PATTERN PID WHAT: block until a process prints its ready line,
# failing early with its log when it dies instead.
wait_for() {
	local log=$1 pattern=$2 pid=$3 what=$4
	for _ in $(seq 1 600); do
		grep -q "$pattern" "$log" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run-local: $what exited; its log ($log):" >&2
			tail -n 30 "$log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "run-local: $what was not ready after 120 s; see $log" >&2
	return 1
}

start_ms=$(($(date +%s%N) / 1000000))
echo "run-local: starting the local AWS stack on $endpoint..."
"$bin/localaws" --state-dir "$local_dir/aws" >"$local_dir/logs/localaws.log" 2>&1 &
pids+=($!)
wait_for "$local_dir/logs/localaws.log" "localaws ready" "${pids[-1]}" "the local AWS stack"

echo "run-local: starting a Kubernetes API server (kube-apiserver + etcd) with the CRDs installed..."
"$bin/localkube" --assets "$bin/k8s" --crd-dir config/crd/bases \
	--write-kubeconfig "$local_dir/kubeconfig" >"$local_dir/logs/localkube.log" 2>&1 &
pids+=($!)
wait_for "$local_dir/logs/localkube.log" "localkube ready" "${pids[-1]}" "the Kubernetes API server"

echo "run-local: starting the controller (logs: .local/logs/manager.log)..."
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=$region \
	"$bin/manager" --kubeconfig "$local_dir/kubeconfig" \
	--aws-endpoint-url "$endpoint" --aws-region "$region" \
	--metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 \
	>"$local_dir/logs/manager.log" 2>&1 &
pids+=($!)
wait_for "$local_dir/logs/manager.log" "Starting workers" "${pids[-1]}" "the controller"
ready_ms=$(($(date +%s%N) / 1000000))
elapsed_ms=$((ready_ms - start_ms))

photo=$(ls /usr/share/wallpapers/*/contents/images/*.jpg /usr/share/backgrounds/*/*.jpg 2>/dev/null | head -n 1 || true)
cat <<MSG

run-local: ready in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s. In another terminal, from $root:

  export KUBECONFIG=$local_dir/kubeconfig
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=$region

  kubectl apply -f config/samples/pipelines_v1alpha1_resizepipeline.yaml
  kubectl wait --for=condition=Ready resizepipeline/demo --timeout=120s
  kubectl get resizepipelines

  aws --endpoint-url $endpoint s3 cp ${photo:-path/to/photo.jpg} s3://image-uploads-oanh/test.jpg
  curl -X POST "\$(kubectl get resizepipeline demo -o jsonpath='{.status.endpoint}')" \\
       -H 'Content-Type: application/json' \\
       -d '{"image_key":"test.jpg","source_bucket":"image-uploads-oanh","destination_bucket":"image-resized-oanh"}'
  aws --endpoint-url $endpoint s3 ls s3://image-resized-oanh/          # thumb-test.jpg
  aws --endpoint-url $endpoint s3 cp s3://image-resized-oanh/thumb-test.jpg .

  kubectl delete resizepipeline demo                  # the buckets keep your images

Ctrl-C here stops everything. Following the controller's log:
MSG
tail -n +1 -f "$local_dir/logs/manager.log" &
pids+=($!)
wait "${pids[2]}"
