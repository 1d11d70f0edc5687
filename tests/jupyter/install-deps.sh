#!/bin/sh
# Installs what the Jupyter tests need from Debian 12, as root and without
# a terminal (CI): the kernel, nbclient/nbconvert, both notebook servers.
# The tests use Debian's /usr/bin/python3.  Safe to run again: nothing is
# done when every package is installed.
set -eu
PACKAGES="python3 python3-zmq python3-jupyter-client python3-ipykernel python3-nbclient python3-nbformat
jupyter-nbconvert python3-notebook python3-jupyter-server python3-tornado libzmq5"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "tests/jupyter/install-deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "tests/jupyter/install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing </dev/null >/dev/null ||
	{ apt-get update -qq </dev/null && apt-get install -y --no-install-recommends $missing </dev/null >/dev/null; }
