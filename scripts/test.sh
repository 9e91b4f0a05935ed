#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (packages, models) first, exactly as
# scripts/setup.sh does, then `cargo test --release`. .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-run
cargo test --release --locked --workspace "$@"
