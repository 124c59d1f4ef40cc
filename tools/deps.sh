#!/bin/sh
# Installs what KernelSight needs to build, test and benchmark, from the
# project's own lists: tools/debian-packages.txt (apt) and package.json (npm).
# Idempotent: does nothing when everything is already there.
set -eu
cd "$(dirname "$0")/.."

missing=""
while read -r p cmd; do
	[ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1 && continue
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done <<EOL
$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tools/debian-packages.txt)
EOL

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=sudo
		else
			echo "deps: missing Debian packages:$missing" >&2
			echo "deps: run 'make deps' as root to install them" >&2
			exit 1
		fi
	else
		SUDO=
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Package lists older than a day (or absent) are refreshed first.
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		$SUDO apt-get update -qq
	fi
	if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/tmp/ksight-deps.log 2>&1; then
		# Stale lists are the usual cause: refresh once and retry.
		$SUDO apt-get update -qq
		$SUDO apt-get install -y -qq --no-install-recommends $missing >/tmp/ksight-deps.log 2>&1 || {
			tail -20 /tmp/ksight-deps.log >&2
			echo "deps: apt-get install failed (log: /tmp/ksight-deps.log)" >&2
			exit 1
		}
	fi
fi

# npm packages for tests (DuckDB, browser driver), pinned in package-lock.json.
if [ -f package.json ]; then
	if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		echo "deps: installing npm packages"
		npm ci --no-audit --no-fund --loglevel=error
	fi
fi
exit 0
