#!/usr/bin/env bash
# Prints the first line of `ferretdb --version` (the binary is the first argument). The whole output
# is read before it is cut: piping into `head -1` under pipefail failed at random (SIGPIPE).
set -euo pipefail
out=$("$1" --version)
printf '%s\n' "${out%%$'\n'*}"
