#!/bin/sh
# Each line: the exact command, then its output.
go build -o sb . || exit 1
run() { echo "\$ $*"; "$@" 2>&1 | grep -v 'WAL file'; }
for i in 1 2 3; do
  for e in "bolt -layout flat" "bolt -layout log" "pebble"; do
    run ./sb -engine $e -mode single -n 2000
    run ./sb -engine $e -mode group -n 100000 -batch 100
    run ./sb -engine $e -mode group -n 100000 -batch 500
    run ./sb -engine $e -mode nosync -n 100000 -batch 500
    run ./sb -engine $e -mode group -n 200000 -batch 500 -history 100
    run ./sb -engine $e -mode load -n 100000
  done
  run ./sb -engine bolt -layout nested -mode group -n 100000 -batch 500
  run ./sb -engine bolt -layout nested -mode load -n 100000
done
