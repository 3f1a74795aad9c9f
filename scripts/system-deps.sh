#!/bin/sh
# System packages the tests need (Debian): dciodvfy (dicom3tools) and dcmdump (dcmtk) validate the
# DICOM-SEG and RTSTRUCT files we write (test/io/dicom/seg.test.ts, rtstruct.test.ts).
# Idempotent: installs only what is missing; as root, or through sudo otherwise.
set -eu
missing=""
command -v dciodvfy >/dev/null 2>&1 || missing="$missing dicom3tools"
command -v dcmdump >/dev/null 2>&1 || missing="$missing dcmtk"
if [ -z "$missing" ]; then
  echo "system-deps: dciodvfy and dcmdump are installed; nothing to do"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "system-deps: need root or sudo to install:$missing" >&2
  exit 1
fi
echo "system-deps: apt-get update"
$SUDO apt-get update -q
echo "system-deps: apt-get install -y --no-install-recommends$missing"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
echo "system-deps: installed$missing"
