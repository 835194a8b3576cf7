#!/usr/bin/env bash
# source-hash.sh: one hash of the sources the GPU bundle's binaries are built from (host/,
# include/, kernels/, the tests' C files, the CMake files and cmake/), the same here and on the GPU
# machine (which gets a copy of the working tree without .git): prepare-bundle.sh writes it into
# the MANIFEST, run-on-device.sh compares it with its tree's before it runs anything.
cd "$(dirname "$0")/../.." || exit 1
find host include kernels tests cmake CMakeLists.txt -type f \
     \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.def' \
        -o -name 'CMakeLists.txt' -o -name '*.cmake' \) -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
