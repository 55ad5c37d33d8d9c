#!/usr/bin/env bash
# Installs the Debian packages the tests use and that a Go toolchain does not
# bring: real photographs (mate-backgrounds, plasma-workspace-wallpapers) for the Lambda's image tests, and
# the AWS CLI v2 (/usr/bin/aws) as a client of the local AWS stack that is
# independent of our own SDK code. Skips what is already there.
set -euo pipefail

packages=(mate-backgrounds plasma-workspace-wallpapers awscli)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
echo "installing ${missing[*]}..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
