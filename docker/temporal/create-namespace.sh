#!/bin/sh
# docker-compose.yml's temporal-namespace step (temporalio/admin-tools): once the server answers,
# creates the namespace the services use (the server image, unlike the old auto-setup, makes none).
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS did not become healthy" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$namespace" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$namespace" --retention 72h --address "$TEMPORAL_ADDRESS"
echo "namespace $namespace is ready"
