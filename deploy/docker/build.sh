#!/bin/sh
# Builds what the container image ships: OUT/faultmaven and
# OUT/plugins/faultmaven-plugin-<name> for every plugins/<name>/main.go (the
# same rule as the Makefile, so a new plugin is picked up without editing
# this file; plugins/internal has no main.go and is skipped). The Dockerfile
# runs it in the build stage and deploy_test.go runs it outside Docker.
# Run from the repository root.
set -eu
out=${1:?usage: deploy/docker/build.sh OUTDIR}
export CGO_ENABLED=0 # static binaries for a distroless image (SQLite is pure Go)
version=${VERSION:-dev} # faultmaven version prints it
mkdir -p "$out/plugins"
go build -trimpath -ldflags "-s -w -X github.com/faultmaven/faultmaven/gateway/internal/cli.Version=$version" \
	-o "$out/faultmaven" ./gateway/cmd/faultmaven
for main in plugins/*/main.go; do
	name=$(basename "$(dirname "$main")")
	go build -trimpath -ldflags "-s -w" -o "$out/plugins/faultmaven-plugin-$name" "./plugins/$name"
done
