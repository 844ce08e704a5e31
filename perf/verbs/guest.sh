#!/bin/sh
# Runs inside one Soft-RoCE VM (see run.sh): ib_write_bw, ib_write_lat, then PdRdma's verbs backend,
# for each message size, on the same rxe device in the same boot. Role a serves, role b measures.
# Usage: guest.sh <pdrdma.dll> <min-size> <max-size> <volume-bytes>
cli=$1 min=$2 max=$3 volume=$4
peer=$PDRDMA_VM_PEER_IP
gid=$(for f in /sys/class/infiniband/rxe0/ports/1/gid_attrs/types/*; do
        i=${f##*/}; [ "$(cat "$f" 2>/dev/null)" = "RoCE v2" ] && grep -q "0000:0000:0000:0000:0000:ffff" /sys/class/infiniband/rxe0/ports/1/gids/$i && { echo "$i"; break; }
      done)
port=48000
iters() { n=$((volume / $1)); [ $n -lt 8 ] && n=8; [ $n -gt 1000 ] && n=1000; echo $n; }
lat_iters() { if [ "$1" -ge 1048576 ]; then echo 10; else echo 50; fi; }
client() { # retry until the server in the other VM listens
  i=0; until "$@" > /tmp/pt.out 2>&1; do i=$((i+1)); [ $i -gt 60 ] && { cat /tmp/pt.out; return 1; }; sleep 1; done; cat /tmp/pt.out
}
s=$min
while [ "$s" -le "$max" ]; do
  n=$(iters "$s"); port=$((port+1))
  if [ "$PDRDMA_VM_ROLE" = a ]; then ib_write_bw -d rxe0 -x "$gid" -F -s "$s" -n "$n" -p $port >/dev/null 2>&1
  else client ib_write_bw -d rxe0 -x "$gid" -F -s "$s" -n "$n" -p $port "$peer" | awk -v s="$s" '$1==s {print "IBBW", s, $4}'; fi
  n=$(lat_iters "$s"); port=$((port+1))
  if [ "$PDRDMA_VM_ROLE" = a ]; then ib_write_lat -d rxe0 -x "$gid" -F -s "$s" -n "$n" -p $port >/dev/null 2>&1
  else client ib_write_lat -d rxe0 -x "$gid" -F -s "$s" -n "$n" -p $port "$peer" | awk -v s="$s" '$1==s {print "IBLAT", s, $5}'; fi
  s=$((s*2))
done
if [ "$PDRDMA_VM_ROLE" = a ]; then dotnet "$cli" verbs-peer target --listen "$PDRDMA_VM_IP:47100" --mode bench
else dotnet "$cli" verbs-peer initiator --connect "$peer:47100" --mode bench --max-size "$max" --volume "$volume"; fi
