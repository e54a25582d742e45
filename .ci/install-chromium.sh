#!/usr/bin/env bash
# Headless Chromium and its driver for tests/test_explorer.py (the explorer page opened in a real browser), from
# Debian's packages, the way .ci/install-latex.sh installs LaTeX: as root or with sudo; a no-op when installed.
# (Recommends left out: upower, udev, printing; the one font package is kept, for a legible screenshot.)
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "Chromium already installed"; exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-liberation
