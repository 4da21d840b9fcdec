#!/usr/bin/env bash
# Regenerates the chart folders beside this script from the upstream git repositories.
#   test/contracts/charts/vendor.sh <helm-charts-hardened.git> <cert-manager.git> <istio.git>
# Each argument is a clone (bare or not) of github.com/spiffe/helm-charts-hardened,
# github.com/cert-manager/cert-manager and github.com/istio/istio holding the pinned tags.
# What each step does, and why, is in README.md; docs (README*.md) are left out: they do not render.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
spire_git="$1" cm_git="$2" istio_git="$3"

# `git archive <tag> <dir>` unpacked into <out>, without the leading path and without docs.
extract() { # <git> <tag> <path> <out>
  local tmp
  tmp="$(mktemp -d)"
  git -C "$1" archive "$2" "$3" | tar -x -C "$tmp"
  rm -rf "$4"
  mv "$tmp/$3" "$4"
  rm -rf "$tmp"
  find "$4" -name 'README*.md' -delete
}

# SPIRE: the umbrella chart with its in-tree subcharts; the two file://../ dependencies
# (spire-lib, spire-identity-exchange, which itself needs spire-lib) vendored into charts/,
# where `helm dependency build` would put them. ci/ is in the chart's .helmignore.
extract "$spire_git" spire-0.30.0 charts/spire "$here/spire-0.30.0"
rm -rf "$here/spire-0.30.0/ci"
extract "$spire_git" spire-0.30.0 charts/spire-lib "$here/spire-0.30.0/charts/spire-lib"
extract "$spire_git" spire-0.30.0 charts/spire-identity-exchange \
  "$here/spire-0.30.0/charts/spire-identity-exchange"
rm -rf "$here/spire-0.30.0/charts/spire-identity-exchange/ci"
mkdir -p "$here/spire-0.30.0/charts/spire-identity-exchange/charts"
cp -r "$here/spire-0.30.0/charts/spire-lib" "$here/spire-0.30.0/charts/spire-identity-exchange/charts/"
extract "$spire_git" spire-crds-0.6.0 charts/spire-crds "$here/spire-crds-0.6.0"
git -C "$spire_git" show spire-crds-0.6.0:LICENSE >"$here/spire-crds-0.6.0/LICENSE"

# cert-manager: the release tooling (make/manifests.mk) copies templates, values.yaml and
# values.schema.json, writes Chart.yaml from Chart.template.yaml with version and appVersion set
# to the release and the artifacthub annotations filled, then `helm package`s it.
extract "$cm_git" v1.19.1 deploy/charts/cert-manager "$here/cert-manager-v1.19.1"
(
  cd "$here/cert-manager-v1.19.1"
  sed -e 's/^version: v0.0.0$/version: v1.19.1/' -e 's/^appVersion: v0.0.0$/appVersion: v1.19.1/' \
    -e 's/"{{IS_PRERELEASE}}"/"false"/' Chart.template.yaml >Chart.yaml
  rm -f Chart.template.yaml .gitignore signkey_annotation.txt values.linter.exceptions
)
git -C "$cm_git" show v1.19.1:LICENSE >"$here/cert-manager-v1.19.1/LICENSE"

# Istio: the source charts say version 1.0.0 and empty/testing image coordinates; Istio's
# release builder stamps the release into Chart.yaml and the image hub and tag into values.yaml.
for pair in base:manifests/charts/base istiod:manifests/charts/istio-control/istio-discovery \
  gateway:manifests/charts/gateway; do
  name="${pair%%:*}" src="${pair#*:}" out="$here/istio-${pair%%:*}-1.30.3"
  extract "$istio_git" 1.30.3 "$src" "$out"
  sed -i -e 's/^version: 1.0.0$/version: 1.30.3/' -e 's/^appVersion: 1.0.0$/appVersion: 1.30.3/' \
    "$out/Chart.yaml"
  sed -i -e 's|^    hub: registry.istio.io/testing$|    hub: docker.io/istio|' \
    -e 's|^    tag: latest$|    tag: 1.30.3|' "$out/values.yaml"
  git -C "$istio_git" show 1.30.3:LICENSE >"$out/LICENSE"
  test "$(sed -n 's/^name: //p' "$out/Chart.yaml")" = "$name"
done
