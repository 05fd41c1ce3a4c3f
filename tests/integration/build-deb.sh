#!/bin/bash
# Build the courier-mkcert .deb from a copy of this checkout, so that the
# checkout itself is not touched (no debian/courier-mkcert/, .pybuild/, ...).
#
#   tests/integration/build-deb.sh OUTDIR
#
# Copies the files git knows about plus untracked ones that are not ignored
# (the work tree as it would be committed), runs
# `dpkg-buildpackage -us -uc -b` there, and moves the .deb into OUTDIR.
# With COURIER_MKCERT_DEB_SOURCE=HEAD it builds `git archive HEAD` instead.
# Prints the path of the .deb on stdout; the build log goes to stderr.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$(realpath "$1")
top=$(cd "$(dirname "$0")/../.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-mkcert-build.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

src="$work/courier-mkcert"
mkdir "$src"
if [ "${COURIER_MKCERT_DEB_SOURCE:-worktree}" = HEAD ]; then
    git -C "$top" archive --format=tar HEAD | tar -x -C "$src"
elif ! git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Not a git checkout (an unpacked tarball): copy it, minus build litter.
    tar -C "$top" -c -f - --exclude=.git --exclude=.venv --exclude=.pybuild \
        --exclude=__pycache__ --exclude='*.egg-info' --exclude=build \
        --exclude=debian/courier-mkcert --exclude=debian/.debhelper . | tar -x -C "$src"
else
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$top" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$top" && tar --null -T - -c -f -) | tar -x -C "$src"
fi

# Debian's own Python, not a virtualenv's or pyenv's that may come first.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
(cd "$src" && dpkg-checkbuilddeps && dpkg-buildpackage -us -uc -b) >&2

mkdir -p "$outdir"
deb=$(ls "$work"/courier-mkcert_*_all.deb)
mv "$deb" "$outdir/"
echo "$outdir/$(basename "$deb")"
