#!/bin/sh
# Generate the build system from a clean checkout.
set -e
autoreconf -fi
rm -rf autom4te.cache
