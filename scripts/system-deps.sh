#!/bin/sh
# System packages the tests need (Debian), installed only when missing:
# - dciodvfy (dicom3tools) and dcmdump (dcmtk) validate the DICOM-SEG and RTSTRUCT files we write;
# - Orthanc with its DICOMweb plugin is the PACS the DICOMweb client is tested against;
# - redis-server is the queue's Redis (BullMQ);
# - chromium (headless, driven by playwright-core) runs the browser app's tests.
# The tests start and stop their own Orthanc and Redis on free loopback ports; nothing here starts a service.
# Idempotent; as root, or through sudo otherwise.
set -eu
missing=""
command -v dciodvfy >/dev/null 2>&1 || missing="$missing dicom3tools"
command -v dcmdump >/dev/null 2>&1 || missing="$missing dcmtk"
[ -x /usr/sbin/Orthanc ] || missing="$missing orthanc"
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing="$missing orthanc-dicomweb"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
if [ -z "$missing" ]; then
  echo "system-deps: dicom3tools, dcmtk, orthanc, orthanc-dicomweb, redis-server and chromium are installed; nothing to do"
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
# Packages with a service (orthanc, redis-server) must not start it here: policy-rc.d says no while installing.
policy=/usr/sbin/policy-rc.d
added=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && added=1
fi
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing || status=$?
[ -n "$added" ] && $SUDO rm -f "$policy"
[ "${status:-0}" -eq 0 ] || exit "$status"
echo "system-deps: installed$missing"
