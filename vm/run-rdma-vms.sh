#!/usr/bin/env bash
# Boots one or two QEMU (TCG) VMs running Debian's kernel with Soft-RoCE (rdma_rxe) and runs a
# command in each; the guests see this machine's root read-only (9p under a tmpfs overlay), so the
# host's dotnet, the repo's build outputs and libibverbs are usable inside them. The guests mount their
# own tmpfs on /tmp and /dev/shm, so the checkout is shared again at its own path (a 9p share under its
# own overlay): a checkout under /tmp, or in a folder whose name has spaces, works too.
#
# Usage: vm/run-rdma-vms.sh [options] -- CMD_A [CMD_B]
#   one command  : one VM, rxe0 on a veth pair; the command talks to its own address (one host)
#   two commands : VM a and VM b joined by a virtio NIC on `-netdev socket`, rxe0 on eth0 in each
# Options:
#   --out DIR       where a.log/a.rc/b.log/b.rc/a.console/b.console land (default: .pdrdma/vm/out/<pid>);
#                   mounted read-write at the same path inside the guests
#   --timeout S     kill the VMs after S seconds (default 600)
#   --mem MIB       memory per VM (default 2048)
#   --cpus N        vCPUs per VM (default 1)
#   --port P        TCP port on 127.0.0.1 for the VM-to-VM link (default 47000 + pid % 1000)
#   --check         only check that qemu, the kernel and the modules are present (exit 3 if not)
# Inside the guest the command runs under /bin/sh in the caller's working directory with:
#   PDRDMA_VM_ROLE=a|b  PDRDMA_VM_IP (own address)  PDRDMA_VM_PEER_IP (the other VM, or own address)
#   PDRDMA_VM_OUT (the shared output folder)  PDRDMA_VM_RDMA_DEV=rxe0
# Exit: 0 if every command exited 0; 1 if one failed; 3 if qemu/kernel/modules are missing;
#       4 if a VM timed out or produced no exit code.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.pdrdma/vm"
out="" timeout_s=600 mem=2048 cpus=1 port=$((47000 + $$ % 1000)) check_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --check) check_only=1; shift ;;
    --) shift; break ;;
    *) echo "run-rdma-vms: unknown option '$1'" >&2; exit 2 ;;
  esac
done

missing() { echo "run-rdma-vms: MISSING: $*" >&2; exit 3; }

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || missing "qemu-system-x86_64 (install: scripts/setup.sh --vm, or apt-get install qemu-system-x86)"
command -v busybox >/dev/null || [ -x /bin/busybox ] || missing "busybox (apt-get install busybox-static)"
busybox_bin=$(command -v busybox || echo /bin/busybox)
file -L "$busybox_bin" 2>/dev/null | grep -q "statically linked" || [ ! -x /usr/bin/file ] \
  || missing "a static busybox (apt-get install busybox-static)"
command -v cpio >/dev/null || missing "cpio (apt-get install cpio)"
command -v rdma >/dev/null || missing "the rdma tool (apt-get install iproute2)"

# Newest Debian kernel with rdma_rxe built as a module.
kver=""
for k in $(ls -1 /lib/modules 2>/dev/null | sort -V -r); do
  if [ -f "/boot/vmlinuz-$k" ] && grep -qE '/rdma_rxe\.ko(\.xz|\.zst)?:' "/lib/modules/$k/modules.dep" 2>/dev/null; then kver=$k; break; fi
done
[ -n "$kver" ] || missing "a kernel in /boot with rdma_rxe in /lib/modules (apt-get install linux-image-amd64)"
kernel="/boot/vmlinuz-$kver"
[ -r "$kernel" ] || missing "$kernel is not readable"

wanted="virtio_pci virtio_net 9pnet_virtio 9p overlay veth crc32_generic ib_uverbs rdma_rxe"
moddir="/lib/modules/$kver"

# Dependency order from modules.dep: dependencies first, each once.
declare -A seen=()
ordered=()
resolve() {
  local name=$1 line path deps d i
  line=$(grep -E "(^|/)$name\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -1)
  [ -n "$line" ] || missing "module $name in $moddir/modules.dep"
  path=${line%%:*}
  [ -n "${seen[$path]:-}" ] && return 0
  seen[$path]=1
  deps=${line#*:}
  # modules.dep lists deps with the furthest first; load from the end of the list
  local arr=($deps)
  for (( i=${#arr[@]}-1; i>=0; i-- )); do
    d=$(basename "${arr[$i]}"); d=${d%%.ko*}
    resolve "$d"
  done
  ordered+=("$path")
}
for m in $wanted; do resolve "$m"; done
# vgem (a DRM driver over shmem): a dma-buf exporter for testing ibv_reg_dmabuf_mr; Debian's 6.1 has no udmabuf.
for m in vgem; do grep -qE "(^|/)$m\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" && resolve "$m" || true; done
[ "$check_only" -eq 1 ] && { echo "run-rdma-vms: ok (qemu $("$qemu" --version | head -1 | awk '{print $4}'), kernel $kver)"; exit 0; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "run-rdma-vms: give one or two commands after --" >&2; exit 2; }
cmds=("$@")

# Build the initramfs once per kernel and script version.
initrd="$cache/initrd-$kver-$(sha1sum "${BASH_SOURCE[0]}" | cut -c1-12).cpio.gz"
if [ ! -f "$initrd" ]; then
  mkdir -p "$cache"
  stage=$(mktemp -d "$cache/stage.XXXXXX")
  mkdir -p "$stage"/{bin,proc,sys,dev,lower,rw,newroot,mod}
  cp "$busybox_bin" "$stage/bin/busybox"
  : > "$stage/mod/order"
  for p in "${ordered[@]}"; do
    f=$(basename "$p"); f=${f%%.ko*}.ko
    case "$p" in
      *.xz) xz -dc "$moddir/$p" > "$stage/mod/$f" ;;
      *.zst) zstd -qdc "$moddir/$p" > "$stage/mod/$f" ;;
      *) cp "$moddir/$p" "$stage/mod/$f" ;;
    esac
    echo "$f" >> "$stage/mod/order"
  done
  cat > "$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^pdv\.$1=//p" | head -1; }
role=$(arg role); ip=$(arg ip); peer=$(arg peer); mode=$(arg mode)
fail() { echo "pdv-init: $*"; echo 125 > /rc; sync; poweroff -f; }
for m in $(cat /mod/order); do insmod /mod/$m || echo "pdv-init: insmod $m failed"; done
# paths come in a file on the output share, not on the kernel command line, so any folder name works
mkdir -p /pdvout; mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 pdvout /pdvout || fail "9p out mount"
{ IFS= read -r outdir; IFS= read -r repo; } < /pdvout/paths || fail "no paths file on the output share"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || fail "9p root mount"
mount -t tmpfs -o size=75% tmpfs /rw; mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay mount"
mount -t proc proc /newroot/proc; mount -t sysfs sys /newroot/sys; mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/shm /newroot/dev/pts; mount -t tmpfs -o size=60% shm /newroot/dev/shm
mount -t tmpfs tmp /newroot/tmp
# the checkout again at its own path: under /tmp it is hidden by the tmpfs just mounted
mkdir -p /lrepo /rw/rupper /rw/rwork "/newroot$repo"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose pdvrepo /lrepo || fail "9p repo mount"
mount -t overlay overlay -o lowerdir=/lrepo,upperdir=/rw/rupper,workdir=/rw/rwork "/newroot$repo" || fail "repo overlay mount"
mkdir -p "/newroot$outdir"; mount -o bind /pdvout "/newroot$outdir" || fail "bind of the output share"
ip() { chroot /newroot /sbin/ip "$@"; }
ip link set lo up
if [ "$mode" = two ]; then
  ip link set eth0 up; ip addr add "$ip/24" dev eth0; netdev=eth0
else
  ip link add veth0 type veth peer name veth1; ip link set veth1 up; ip link set veth0 up
  ip addr add "$ip/24" dev veth0; netdev=veth0
fi
chroot /newroot rdma link add rxe0 type rxe netdev $netdev || fail "rdma link add"
# the peer may boot a little later; wait for it to answer before starting
if [ "$mode" = two ]; then i=0; until ping -c1 -W1 "$peer" >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i+1)); done; fi
cd /newroot
export PDRDMA_VM_ROLE=$role PDRDMA_VM_IP=$ip PDRDMA_VM_PEER_IP=$peer PDRDMA_VM_OUT="$outdir" PDRDMA_VM_RDMA_DEV=rxe0 HOME=/root DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
chroot /newroot /bin/sh -c 'ulimit -l unlimited; cd /; /bin/sh "$PDRDMA_VM_OUT/$PDRDMA_VM_ROLE.sh" > "$PDRDMA_VM_OUT/$PDRDMA_VM_ROLE.log" 2>&1; echo $? > "$PDRDMA_VM_OUT/$PDRDMA_VM_ROLE.rc"'
sync
echo "pdv-init: done rc=$(cat "/newroot$outdir/$role.rc" 2>/dev/null)"
poweroff -f
INIT
  chmod +x "$stage/init"
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp" && mv "$initrd.tmp" "$initrd"
  rm -rf "$stage"
fi

[ -n "$out" ] || out="$cache/out/$$"
mkdir -p "$out"; out=$(cd "$out" && pwd)
rm -f "$out"/{a,b}.{log,rc,console,sh}
case "$root$out" in *$'\n'*) echo "run-rdma-vms: the checkout or --out path has a newline in its name; the guests cannot be told it" >&2; exit 2 ;; esac
printf '%s\n%s\n' "$out" "$root" > "$out/paths"
qpath() { printf '%s' "${1//,/,,}"; }   # qemu option values double their commas

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

boot() { # role ip peer mode netopts...
  local role=$1 ip=$2 peer=$3 mode=$4; shift 4
  { printf 'cd %q || exit 126\n' "$PWD"; printf '%s\n' "${cmds[$([ "$role" = a ] && echo 0 || echo 1)]}"; } > "$out/$role.sh"
  timeout -k 5 "$timeout_s" "$qemu" -nodefaults -no-user-config -machine q35 -accel tcg -cpu max \
    -m "$mem" -smp "$cpus" -display none -monitor none -no-reboot \
    -chardev "file,id=con0,path=$(qpath "$out/$role.console")" -serial chardev:con0 \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 no_timer_check rdinit=/init pdv.role=$role pdv.ip=$ip pdv.peer=$peer pdv.mode=$mode" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$(qpath "$root"),mount_tag=pdvrepo,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$(qpath "$out"),mount_tag=pdvout,security_model=none" \
    "$@" </dev/null >>"$out/$role.console" 2>&1 &
  pids+=($!)
}

start=$(date +%s)
if [ ${#cmds[@]} -eq 1 ]; then
  boot a 198.18.47.1 198.18.47.1 one -nic none
else
  boot a 198.18.47.1 198.18.47.2 two -netdev "socket,id=n0,listen=127.0.0.1:$port" -device virtio-net-pci,netdev=n0,mac=52:54:00:47:00:01
  sleep 1
  boot b 198.18.47.2 198.18.47.1 two -netdev "socket,id=n0,connect=127.0.0.1:$port" -device virtio-net-pci,netdev=n0,mac=52:54:00:47:00:02
fi
for p in "${pids[@]}"; do wait "$p"; done
pids=()
elapsed=$(( $(date +%s) - start ))

status=0
for role in a b; do
  [ -f "$out/$role.sh" ] || continue
  rc=$(cat "$out/$role.rc" 2>/dev/null || true)
  echo "=== vm $role: rc=${rc:-none} (${elapsed}s) log: $out/$role.log console: $out/$role.console"
  [ -f "$out/$role.log" ] && tail -n 40 "$out/$role.log" | sed "s/^/[$role] /"
  if [ -z "$rc" ]; then
    echo "[$role] no exit code: the VM timed out or its init failed; console tail:"; tail -n 20 "$out/$role.console" | sed "s/^/[$role console] /"
    status=4
  elif [ "$rc" != 0 ] && [ "$status" -eq 0 ]; then status=1; fi
done
exit $status
