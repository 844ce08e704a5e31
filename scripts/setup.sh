#!/usr/bin/env bash
# Installs what PdRdma needs on a Debian-family machine (root, or sudo).
# Idempotent: a second run installs nothing. Usage: scripts/setup.sh [--vm]
#   --vm  also installs the Soft-RoCE VM harness (qemu, Debian kernel, rdma-core, perftest).
set -euo pipefail

want_vm=0
for arg in "$@"; do
  case "$arg" in
    --vm) want_vm=1 ;;
    *) echo "setup.sh: unknown argument '$arg' (known: --vm)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The archive URIs this machine already uses for its own release (its mirror or proxy, never a fixed host):
# deb822 `.sources` stanzas and one-line `deb` entries whose suite is exactly the release codename.
debian_archive_uris() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v want="$codename" '
        function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ")) print uris; types = suites = uris = "" }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]*#/ { next }
        tolower($1) == "types:" { sub(/^[^:]*:[ \t]*/, ""); types = $0 }
        tolower($1) == "suites:" { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
        tolower($1) == "uris:" { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
        END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      # deb [options] URI SUITE COMPONENTS...
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v want="$codename" '$1 == "deb" && $3 == want { print $2 }'
    done
  } | tr ' ' '\n' | awk 'NF && !seen[$0]++' | paste -sd' ' -
}

# Tools every run needs: namespaces and veth (iproute2), the tcp baseline (iperf3), a C compiler
# for the struct-layout check, and the verbs headers/library for the binding.
apt_install iproute2 iperf3 qperf gcc libc6-dev libibverbs1 libibverbs-dev ibverbs-providers rdma-core procps
# libdrm-dev: the DRM headers the dma-buf source binding (vgem dumb buffers) is checked against.
apt_install libdrm-dev
# libpdrdma.so: NativeAOT links with clang and zlib; the C API and Python package tests use python3-pytest and numpy.
apt_install clang zlib1g-dev python3 python3-pytest python3-numpy
# systemd-analyze scores deploy/pdrdmad.service (tests/Security); util-linux gives setpriv/unshare for the confined daemon test.
apt_install systemd util-linux

# The GPU engine check's CPU-side tests: its Python scripts (libtorch ABI check; the PyTorch reference, run here
# with its numpy backend) and nm for the list of libtorch symbols LibTorchSharp needs.
apt_install python3 python3-numpy binutils

# TorchSharp 0.107's native shim needs GLIBCXX_3.4.32 (libstdc++ of GCC 13+). Debian 12 ships
# 3.4.30; only there do we take libstdc++6 from trixie, pinned low so nothing else follows it.
# awk reads to the end: an early exit would SIGPIPE ldconfig, and pipefail + set -e would end the script (exit 141)
libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {print $NF; found=1}')
if [ -n "$libstdcxx" ] && ! grep -q GLIBCXX_3.4.32 "$libstdcxx"; then
  . /etc/os-release
  if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    echo "setup: Debian 12 libstdc++ lacks GLIBCXX_3.4.32; installing libstdc++6 from trixie"
    if [ ! -f /etc/apt/sources.list.d/pdrdma-trixie.sources ]; then
      uris=$(debian_archive_uris)
      [ -n "$uris" ] || { echo "setup: no Debian archive for '$VERSION_CODENAME' in /etc/apt/sources.list*; add one (or a local mirror) and rerun" >&2; exit 1; }
      echo "setup: adding the trixie suite from this machine's own archive: $uris"
      $SUDO tee /etc/apt/sources.list.d/pdrdma-trixie.sources >/dev/null <<SRC
Types: deb
URIs: $uris
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      $SUDO tee /etc/apt/preferences.d/pdrdma-trixie >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends -t trixie libstdc++6 >/dev/null
  else
    echo "setup: warning: $libstdcxx lacks GLIBCXX_3.4.32 and this is not Debian 12; TorchSharp will not load until libstdc++ of GCC 13+ is installed" >&2
  fi
fi
# etcd, the cluster directory (docs/cluster.md); the tests start their own on a loopback port with a temporary
# data dir. Debian 12 ships 3.4: take 3.5 from trixie, pinned low as above so nothing else follows it.
# (The package enables a system etcd unit on 127.0.0.1:2379; nothing in PdRdma uses it.)
if ! etcd --version 2>/dev/null | grep -q 'etcd Version: 3\.[5-9]' || ! command -v etcdctl >/dev/null 2>&1; then
  . /etc/os-release
  if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    echo "setup: installing etcd-server and etcd-client 3.5 from trixie"
    if [ ! -f /etc/apt/sources.list.d/pdrdma-trixie.sources ]; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee /etc/apt/sources.list.d/pdrdma-trixie.sources >/dev/null
      printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/pdrdma-trixie >/dev/null
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends -t trixie etcd-server etcd-client >/dev/null
  else
    apt_install etcd-server etcd-client
  fi
fi

# The openai npm client that the serving tests drive (tests/clients/openai, pinned by its package-lock.json).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
openai_client="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/clients/openai"
if [ ! -f "$openai_client/node_modules/openai/package.json" ]; then
  echo "setup: installing the openai npm client into tests/clients/openai (npm ci)"
  (cd "$openai_client" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Level Zero loader and headers (the XPU binding, its struct-layout check and the test driver the tests build).
# Debian 12 has no libze1; take it from trixie through the same low-pinned source as libstdc++ above.
if ! dpkg -s libze-dev >/dev/null 2>&1 || ! dpkg -s libze1 >/dev/null 2>&1; then
  . /etc/os-release
  if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    if [ ! -f /etc/apt/sources.list.d/pdrdma-trixie.sources ]; then
      $SUDO tee /etc/apt/sources.list.d/pdrdma-trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      $SUDO tee /etc/apt/preferences.d/pdrdma-trixie >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    fi
    echo "setup: installing libze1 libze-dev from trixie (Level Zero loader and headers)"
    $SUDO apt-get update -qq
    $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends -t trixie libze1 libze-dev >/dev/null
  else
    apt_install libze1 libze-dev
  fi
fi

if [ "$want_vm" -eq 1 ]; then
  apt_install qemu-system-x86 linux-image-amd64 busybox-static perftest ibverbs-utils rdma-core kmod cpio
fi
echo "setup: ok"
