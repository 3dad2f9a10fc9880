# Sourced by bin/demo and bin/test: create or reuse the project's virtual environment under .venv and
# (re)install the project when pyproject.toml changed since the last install. IAMSCOPE_EXTRAS names
# the extras a caller needs ("test" for bin/test); installing them also satisfies a plain install.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "iamscope needs Python 3.10 or newer; set PYTHON=/path/to/python3.x" >&2
  exit 2
fi
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
extras="${IAMSCOPE_EXTRAS:-}"
digest="$(sha256sum "$repo/pyproject.toml" | cut -c1-16)"
stamp="$venv/.installed-${extras:-base}"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
  echo "installing iamscope${extras:+[$extras]} into $venv ..." >&2
  log="$venv/pip-install.log"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check -e "$repo${extras:+[$extras]}" >"$log" 2>&1; then
    echo "pip install failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 2
  fi
  echo "$digest" > "$stamp"
  echo "$digest" > "$venv/.installed-base"
fi
export PATH="$venv/bin:$PATH"
