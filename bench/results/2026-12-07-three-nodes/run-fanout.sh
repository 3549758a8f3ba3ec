#!/bin/bash
# Fan-out, alternating one node / three on Redis / three on NATS.
B=/tmp/herald-bench
D=$(cd $(dirname $0) && pwd)

run() { # name args...
  name=$1; shift
  $D/quiet.sh
  echo "=== $(date -u +%H:%M:%S) $name: herald bench fanout $*"
  $B bench fanout "$@" --out $D/$name.json > $D/$name.txt 2>/dev/null
  echo "rc=$? $(grep -E 'throughput|lost|latency' $D/$name.txt | tr '\n' ' ')"
}
cfg() { case $1 in 1node) echo "--nodes 1 --broker memory";; redis) echo "--nodes 3 --broker redis";; nats) echo "--nodes 3 --broker nats";; esac; }
for round in 1 2 3; do
  for rate in 50 100; do
    for c in 1node redis nats; do
      run fanout-r$rate-$c-$round $(cfg $c) --subs 10000 --rate $rate --duration 20s --size 64 --procs 3
    done
  done
done
for round in 1 2 3; do
  for c in 1node redis nats; do
    run fanout-flat-$c-$round $(cfg $c) --subs 10000 --rate 0 --duration 20s --size 64 --procs 3 --drain 20s
  done
done
echo DONE
