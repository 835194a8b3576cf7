#!/usr/bin/env bash
# bundle-fresh.sh: whether .bundle/ was built from this tree's sources (exit 0) or not (exit 1,
# saying what to do). Run it here right before the device call, where it costs no device time;
# run-on-device.sh runs it again there first.
cd "$(dirname "$0")/../.." || exit 1
if [ ! -f .bundle/MANIFEST ]; then
  echo "no .bundle/MANIFEST: run tests/gpu/prepare-bundle.sh"
  exit 1
fi
built=$(sed -n 's/^sources: *//p' .bundle/MANIFEST)
here=$(bash tests/gpu/source-hash.sh)
if [ "$built" != "$here" ]; then
  echo "stale bundle: built from sources ${built:-unknown} ($(sed -n 's/^commit: *//p' .bundle/MANIFEST)), this tree is $here: run tests/gpu/prepare-bundle.sh"
  exit 1
fi
echo "bundle fresh: sources $here ($(sed -n 's/^commit: *//p' .bundle/MANIFEST))"
