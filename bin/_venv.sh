# Sourced by bin/start and bin/test: a virtualenv in .venv with requirements.txt installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Printable documents (WeasyPrint) need Debian's pango and the CJK fonts: installed here when missing; with
# HarfBuzz's subsetter the embedded CJK font is cut in C (0.05 s a PDF), without it by fontTools (2.5 s a PDF).
DEBIAN_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk"
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null \
  && ! dpkg-query -W -f='${Status}\n' $DEBIAN_PACKAGES 2>/dev/null | grep -c "ok installed" | grep -qx 4; then
  apt-get install -y -q $DEBIAN_PACKAGES >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $DEBIAN_PACKAGES >/dev/null 2>&1; } \
    || echo "could not install $DEBIAN_PACKAGES: printable documents need them (apt-get install -y $DEBIAN_PACKAGES)"
fi
PY=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! cmp -s requirements.txt .venv/.requirements.installed 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.requirements.installed
fi
