#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from Go modules into
# $1 (default bin/k8s). setup-envtest downloads prebuilt binaries, which this
# project cannot rely on, so the binaries are compiled once per machine and kept
# in an ignored folder; a second call with both binaries present does nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bin/k8s}
k8s_version=v1.37.2
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [[ -x $out/kube-apiserver && -x $out/etcd ]] &&
	"$out/kube-apiserver" --version 2>/dev/null | grep -q "$k8s_version"; then
	exit 0
fi

cd "$root/hack/tools/k8s"
minor=${k8s_version#v1.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	stamp+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done

if [[ ! -x $out/etcd ]]; then
	echo "building etcd (about a minute on 2 cores)..." >&2
	go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3
fi
echo "building kube-apiserver $k8s_version (about 5 minutes on 2 cores, once per machine)..." >&2
go build -trimpath -ldflags "$stamp" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
echo "envtest binaries ready in $out" >&2
