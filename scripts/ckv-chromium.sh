#!/bin/sh
# Make Debian's Chromium available for the browser test of the rendered spec.
#
#   scripts/ckv-chromium.sh        -> prints the path of the browser, or a reason on stderr
#
# Installs the Debian package chromium when no browser is found (needs apt-get
# and root). Exit 0 with the path when a browser is there; exit 3 when it is
# missing and cannot be installed here (the test then skips and says so).
set -eu
find_browser() {
    for name in chromium chromium-browser; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    done
    return 1
}
if path=$(find_browser); then
    echo "$path"
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2; }
fi
if path=$(find_browser); then
    echo "$path"
    exit 0
fi
echo "Chromium is not installed and cannot be installed here (needs root and apt-get)" >&2
exit 3
