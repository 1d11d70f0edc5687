#!/bin/sh
# Installs the build into a scratch prefix, then builds programs against it
# the two ways downstream projects do: pkg-config and find_package.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
prefix=$(mktemp -d /tmp/redact-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libredact.so.1' | head -1)")
test -f "$prefix/include/redact.h"
test -f "$libdir/pkgconfig/libredact.pc"
test -f "$libdir/cmake/libredact/libredactConfig.cmake"
test -L "$libdir/libredact.so"
# pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -Wall -Werror "$src/tests/install/consumer/consumer.c" \
	$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs libredact) -o "$prefix/pc-consumer"
out=$(LD_LIBRARY_PATH="$libdir" REDACT_CONFIG=/dev/null "$prefix/pc-consumer")
[ "$out" = "key=********************" ] || { echo "pkg-config consumer printed: $out"; exit 1; }
# CMake package
cmake -S "$src/tests/install/consumer" -B "$prefix/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$prefix/cm/consumer_c" >/dev/null
LD_LIBRARY_PATH="$libdir" "$prefix/cm/consumer_cxx"
# SONAME
objdump -p "$libdir/libredact.so.1" | grep -q 'SONAME *libredact.so.1'
echo "install: pkg-config and find_package consumers work"
