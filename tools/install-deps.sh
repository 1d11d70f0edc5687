#!/bin/sh
# Installs what building and testing libredact needs on Debian 12, as root,
# non-interactively.  Safe to run again: apt-get skips what is installed.
set -eu
PACKAGES="build-essential cmake pkg-config libpcre2-dev liburcu-dev libyaml-dev libcmocka-dev valgrind
python3 perl mawk file"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (apt-get)" >&2
	exit 1
fi
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
apt-get install -y --no-install-recommends $missing </dev/null ||
	{ apt-get update -qq </dev/null && apt-get install -y --no-install-recommends $missing </dev/null; }
