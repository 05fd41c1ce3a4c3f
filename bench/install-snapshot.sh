#!/bin/sh
# Install a committed snapshot of courier-mkcert into a fresh virtualenv, so
# that benchmarks run a regular (byte-compiled, non-editable) installation
# and are not disturbed by uncommitted edits in the checkout.
#
#   bench/install-snapshot.sh [COMMIT [VENV [PYTHON]]]
#
# Defaults: HEAD, /tmp/mkcert-bench-venv, and the checkout's .venv/bin/python
# (the README's test install) or else python3.  The new virtualenv gets the
# cryptography and pyOpenSSL versions that interpreter has, or the newest
# from PyPI when it has none.  Prints the path of the installed mkimapdcert.
set -e
COMMIT=${1:-HEAD}
VENV=${2:-/tmp/mkcert-bench-venv}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$ROOT/.venv/bin/python" ]; then DEFAULT_PYTHON=$ROOT/.venv/bin/python; else DEFAULT_PYTHON=python3; fi
PYTHON=${3:-$DEFAULT_PYTHON}
SRC=$(mktemp -d /tmp/mkcert-snapshot.XXXXXX)
trap 'rm -rf "$SRC"' EXIT
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$SRC"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# The same cryptography and pyOpenSSL as the interpreter we were given.
PINS=$("$PYTHON" -c 'import cryptography, OpenSSL; print(f"cryptography=={cryptography.__version__} pyOpenSSL=={OpenSSL.__version__}")' 2>/dev/null || true)
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS "$SRC" >&2
git -C "$ROOT" rev-parse "$COMMIT" > "$VENV/mkcert-commit"
echo "$VENV/bin/mkimapdcert"
