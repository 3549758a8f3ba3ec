#!/bin/bash
B=/tmp/herald-bench
D=$(cd $(dirname $0) && pwd)

run() { name=$1; shift
  $D/quiet.sh
  echo "=== $(date -u +%H:%M:%S) $name: herald bench idle $*"
  $B bench idle "$@" --out $D/$name.json > $D/$name.txt 2>/dev/null
  echo "rc=$? $(grep -E 'connections|RSS per|CPU while' $D/$name.txt | tr '\n' ' ')"
}
for round in 1 2 3; do
  run idle50k-redis-$round --nodes 3 --broker redis --conns 50000 --procs 6 --hold 20s
  run idle50k-nats-$round --nodes 3 --broker nats --conns 50000 --procs 6 --hold 20s
  run idle16k-1node-$round --nodes 1 --broker memory --conns 16667 --procs 2 --hold 20s
done
echo DONE
