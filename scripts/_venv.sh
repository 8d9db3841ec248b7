# Sourced by scripts/serve and scripts/test: make .venv and keep the project installed in it.
#
# ensure_venv EXTRAS: create .venv with ${PYTHON:-python3} if it is missing, then
# `pip install -e ".[EXTRAS]"` unless a stamp newer than pyproject.toml says it was done already.
# The install is editable, so source edits need no reinstall; only pyproject.toml changes do.

_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "$0: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

# apt_install PACKAGE...: install Debian packages non-interactively (apt-get update first).
apt_install() {
    command -v apt-get >/dev/null 2>&1 || {
        echo "$0: apt-get not found; install $* yourself" >&2
        return 1
    }
    echo "== installing $* (apt-get)"
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}

ensure_venv() {
    local extras=$1 python=${PYTHON:-python3}
    local spec=. stamp=.venv/.porch-installed
    if [ -n "$extras" ]; then
        spec=".[$extras]"
        stamp=".venv/.porch-installed-$extras"
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "== creating .venv with $python"
        if ! "$python" -m venv .venv; then
            # Debian's python3 keeps venv (ensurepip) in a separate package.
            rm -rf .venv
            apt_install python3-venv && "$python" -m venv .venv || return 1
        fi
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ ! -x .venv/bin/porch ]; then
        echo "== pip install -e '$spec'"
        .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" || return 1
        touch "$stamp"
    fi
}
