#!/bin/bash
# diag.sh memory|redis|nats: one flat-out fan-out run (herald bench fanout --rate 0) on one node
# (memory) or three, sampling about every second each node's herald_fanout_backlog_bytes
# and RSS, the kernel's socket queues (sq.sh) and its TCP memory (/proc/net/sockstat).
B=/tmp/herald-bench
cd $(dirname $0)
$B bench fanout $( [ $1 = memory ] && echo "--nodes 1" || echo "--nodes 3") --broker $1 --subs 10000 --rate 0 --duration 20s --size 64 --procs 3 --drain 20s --out diag-flat-$1.json > diag-flat-$1.txt 2>/dev/null &
bp=$!
sleep 6
nodes=$(pgrep -P $bp -f "serve --config")
echo "nodes: $nodes"
for s in $(seq 1 45); do
  kill -0 $bp 2>/dev/null || break
  line="$(date -u +%T)"
  for p in $nodes; do
    cfg=$(tr '\0' ' ' < /proc/$p/cmdline | awk '{print $4}')
    port=$(grep '^addr' $cfg | sed 's/.*:\([0-9]*\)"/\1/')
    bl=$(curl -s --max-time 0.5 http://127.0.0.1:$port/metrics | grep '^herald_fanout_backlog_bytes' | awk '{printf "%.0f", $2/1048576}')
    rss=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$p/status 2>/dev/null)
    line="$line | backlog ${bl}MB rss ${rss}MB"
  done
  if [ $1 = redis ]; then line="$line | redis omem $(redis-cli client list 2>/dev/null | grep 'cmd=\(s\|p\)subscribe\|sub=[1-9]' | grep -o 'omem=[0-9]*' | tr '\n' ' ')"; fi
  echo "$line | $($(dirname $0)/sq.sh) | tcp mem $(awk '/^TCP:/{printf "%.0fMB", $NF*4/1024}' /proc/net/sockstat)"
  sleep 1
done
wait $bp
grep -E "throughput|latency|publishes|coalescing" diag-flat-$1.txt
