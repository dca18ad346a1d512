# Shared by scripts/test.sh and scripts/demo.sh: install what is missing, prepare the venv.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SKOMIRROR_VENV:-$ROOT/.venv}"

say() { printf '%s\n' "$*" >&2; }

# ensure_packages: skopeo and docker-registry (plus openssl for the TLS tests), through apt-get or dnf when root.
ensure_packages() {
  local missing=()
  command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
  command -v docker-registry >/dev/null 2>&1 || command -v registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # renders report.html in its test
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)  # a real terminal for the console test
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  elif [ "$(id -u)" -eq 0 ] && command -v dnf >/dev/null 2>&1; then
    # RHEL/Fedora name the registry package docker-distribution (binary: registry); it comes from EPEL on RHEL.
    local rpm=("${missing[@]/docker-registry/docker-distribution}")
    say "installing ${rpm[*]} with dnf"
    dnf install -y "${rpm[@]}"
  else
    say "missing: ${missing[*]}"
    say "install them, then run this again:"
    say "  Debian/Ubuntu: sudo apt-get install -y ${missing[*]}"
    say "  RHEL/Fedora:   sudo dnf install -y ${missing[*]/docker-registry/docker-distribution}"
    exit 1
  fi
}

# ensure_venv: a virtualenv with skomirror, its test dependencies and the Helm SDK (the `helm` extra, so that the
# helm tests render with a real engine where no helm CLI is installed), reused when already there.
ensure_venv() {
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    say "skomirror needs Python >= 3.9; $python is $("$python" --version 2>&1)"
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
        "$python" -m venv "$VENV"
      else
        say "cannot create a virtualenv: install python3-venv (Debian) and run this again"
        exit 1
      fi
    fi
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test,helm]"
}
