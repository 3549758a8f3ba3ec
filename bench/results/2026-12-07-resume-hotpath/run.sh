#!/bin/bash
# alternating old/new runs; odd rounds old first, even rounds new first
# ROUNDS="1 2 3", SCENS="f200 flat idle sio" (default), QUIETN: 3 s samples of the quiet wait
OUT=/work/main/bench/results/2026-12-07-resume-hotpath
cd /tmp
quiet() { # wait up to 60s for <10% busy over 3s
  for i in $(seq ${QUIETN:-5}); do
    a=($(head -1 /proc/stat)); sleep 3; b=($(head -1 /proc/stat))
    t=0; for k in 1 2 3 4 5 6 7 8; do t=$((t + b[k] - a[k])); done
    idle=$(( (b[4]-a[4]) + (b[5]-a[5]) ))
    busy=$(( 100 * (t - idle) / t ))
    [ $busy -lt 10 ] && { echo "quiet: $busy%"; return; }
    echo "busy: $busy%, waiting"
  done
}
run() { # name bin args...
  name=$1; bin=$2; shift 2
  [ -s $OUT/$name.json ] && { echo "skip $name"; return; }
  quiet
  echo "=== $(date -u +%T) $name: herald-$bin bench $*"
  /tmp/herald-$bin bench "$@" -json -out $OUT/$name.json > $OUT/$name.log 2>&1
  echo "rc=$? $(date -u +%T)"
}
scen() { # round bin
  r=$1; b=$2
  case $S in
    f200) run fanout200-$b-$r $b fanout --subs 10000 --rate 200 --duration 15s --procs 1 ;;
    flat) run fanout-flat-$b-$r $b fanout --subs 10000 --rate 0 --duration 15s --procs 1 ;;
    idle) run idle-$b-$r $b idle --conns 15000 --procs 3 --hold 20s ;;
    sio)  run sioflat-$b-$r $b socketio fanout --target herald --subs 10000 --procs 1 --rate 0 --duration 15s --quiet-wait 15s --retries 0 ;;
  esac
}
for r in ${ROUNDS:-1 2}; do
  if [ $((r % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for S in ${SCENS:-f200 flat idle sio}; do
    for b in $order; do scen $r $b; done
  done
done
echo ALLDONE
