#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root, or as a user with sudo):
#   ./dev.sh demo   install what is missing, then run the agent on the embedded default
#   ./dev.sh test   install what is missing, then ruff, mypy and the whole test suite
# Both are idempotent: a second run installs nothing and starts at once.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-fin tesseract-ocr-swe tesseract-ocr-osd   # OCR, fi+sv, OSD
  tesseract-ocr-eng                                 # the hetu box's second, independent read
  libsane-dev sane-utils gcc                                            # python-sane builds
  poppler-utils ghostscript                                             # pdftoppm, pdf checks
  fonts-dejavu-core fonts-liberation fonts-freefont-ttf                 # synthetic scans
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_system() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "dev.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" </dev/null
  fi
}

install_venv() {
  local stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
  [ -f "$stamp" ] && return 0
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "dev.sh: installing Python packages into .venv" >&2
  .venv/bin/pip install -q --upgrade pip </dev/null
  .venv/bin/pip install -q -e '.[test]' </dev/null
  rm -f .venv/.installed-* && touch "$stamp"
}

install_system
install_venv
export PATH="$PWD/.venv/bin:$PATH"

case "${1:-}" in
  demo)
    shift
    exec aspa-agent demo "$@"
    ;;
  test)
    shift
    ruff check .
    mypy
    # A worker per core; each test file stays on one worker (its module fixtures run once).
    exec pytest -q -n auto --dist loadfile --durations=15 "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo|test" >&2
    exit 2
    ;;
esac
