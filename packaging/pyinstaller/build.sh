#!/bin/sh
# Build the Linux one-folder bundle, then prove that it runs on its own.
#
#   sh packaging/pyinstaller/build.sh [--no-install] [OUT]
#
# The bundle lands in OUT/callviewer/ (OUT defaults to dist/ in the repository);
# PyInstaller's work files go to a temporary folder that is removed afterwards (never
# to the repository's build/, which `pip install .` uses). The bundle is made from the
# project's virtual environment (.venv, or $PYTHON): first `pip install '.[bundle]'`
# there, so what is bundled is this source tree, unless --no-install says it is
# installed already.
#
# Smoke test: a copy of the bundle in a temporary folder runs `callviewer selftest`
# under Xvfb with an empty environment (a fresh HOME; no virtual environment, PYTHONPATH
# or PYTHONHOME; the real xcb platform, VLC with no sound card). It imports the demo
# calls, opens the window, plays a recording and quits. The script exits non-zero when
# the build or the smoke test fails.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
install=yes
if [ "${1:-}" = "--no-install" ]; then
    install=no
    shift
fi
out=${1:-$repo/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
if [ ! -x "$python" ]; then
    echo "build.sh: no Python at $python: run 'sh packaging/debian.sh test' first, or set PYTHON." >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/callviewer-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

if [ "$install" = yes ]; then
    (cd "$repo" && "$python" -m pip install -q ".[bundle]")
elif ! "$python" -c "import PyInstaller" 2>/dev/null; then
    "$python" -m pip install -q pyinstaller
fi

started=$(date +%s)
# From an empty folder: `python -m` puts the current folder first on sys.path, and the
# repository's own callviewer/ (without its resources package) must not shadow the
# installed one.
mkdir "$work/pyinstaller" "$work/cwd"
(cd "$work/cwd" && "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$out" --workpath "$work/pyinstaller" "$repo/packaging/pyinstaller/callviewer.spec")
built=$(date +%s)
echo "bundle: $out/callviewer ($(du -sh "$out/callviewer" | cut -f1), built in $((built - started)) s)"

# The smoke test, from a copy: nothing may point back at the build machine's Python.
mkdir "$work/smoke" "$work/smoke/home"
cp -a "$out/callviewer" "$work/smoke/"
cd "$work/smoke"
status=0
env -i HOME="$work/smoke/home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    xvfb-run -a env -u QT_QPA_PLATFORM CALLVIEWER_VLC_ARGS=--aout=dummy \
    "$work/smoke/callviewer/callviewer" selftest || status=$?
cd "$repo"
if [ "$status" -ne 0 ]; then
    echo "build.sh: the bundle's selftest failed (exit $status)." >&2
    exit 1
fi
echo "smoke test passed in $(($(date +%s) - built)) s"
