#!/bin/sh
# Set up Call Viewer on a fresh Debian/Ubuntu machine, then launch it or test it.
#
#   sh packaging/debian.sh run    install everything, then launch the app
#   sh packaging/debian.sh test   install everything, then run the whole test suite
#
# Installs the system packages (libVLC for playback, the xcb libraries Qt's
# window needs, the tools the tests use), a virtual environment in .venv,
# and the project into it (a real install, not an editable one, so the
# tests see what a user gets).
set -eu
cd "$(dirname "$0")/.."
mode=${1:-run}

APT_PACKAGES="python3 python3-venv libvlc5 vlc-plugin-base \
libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 \
libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji"
if [ "$mode" = test ]; then
    # x11-utils: xwininfo finds the launched window; the validators check the desktop entry.
    APT_PACKAGES="$APT_PACKAGES xvfb xauth x11-utils desktop-file-utils appstream"
    # binutils: PyInstaller reads and strips the bundle's libraries with objdump and strip.
    APT_PACKAGES="$APT_PACKAGES binutils"
    # postgresql: the team-mode tests start a server of their own (initdb + pg_ctl).
    APT_PACKAGES="$APT_PACKAGES postgresql"
fi

missing=""
for package in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $package"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing system packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
    # bundle: PyInstaller, for the bundle test (tests/integration/test_bundle.py).
    .venv/bin/python -m pip install -q ".[test,bundle]"
else
    .venv/bin/python -m pip install -q .
fi

case "$mode" in
    run)
        exec .venv/bin/callviewer-gui
        ;;
    test)
        .venv/bin/ruff check callviewer tests packaging/pyinstaller
        # Tests run Qt offscreen and VLC with no sound card.
        export QT_QPA_PLATFORM=offscreen
        export CALLVIEWER_VLC_ARGS="--aout=dummy"
        exec .venv/bin/python -m pytest -q -p no:cacheprovider
        ;;
    *)
        echo "usage: sh packaging/debian.sh run|test" >&2
        exit 2
        ;;
esac
