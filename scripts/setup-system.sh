#!/usr/bin/env bash
# Installs the system packages the build (or the checks) need, when they are missing.
#   scripts/setup-system.sh build   fonts, Pango for WeasyPrint, poppler, a Java runtime
#   scripts/setup-system.sh test    the above plus Chromium and Node.js (axe-core, vnu, Ace)
#   scripts/setup-system.sh check   the above plus calibre (EPUB → AZW3, the Kindle path)
# As root it runs apt-get; otherwise it prints the exact command and exits 1.
set -euo pipefail
what=${1:-build}

build_pkgs=(fonts-ebgaramond fonts-sil-gentiumplus libpango-1.0-0 libpangoft2-1.0-0
            libharfbuzz-subset0 poppler-utils default-jre-headless)
test_pkgs=(chromium chromium-driver nodejs npm)
check_pkgs=(calibre)

pkgs=("${build_pkgs[@]}")
case $what in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  check) pkgs+=("${test_pkgs[@]}" "${check_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|check" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # nodejs/npm may come from elsewhere (e.g. a preinstalled Node): accept the commands.
  case $p in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    default-jre-headless) command -v java >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
sh -c "$cmd" >/dev/null
