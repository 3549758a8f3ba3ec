#!/bin/sh
# Each line: the exact command, then its output. Clients alternate
# within each of the three rounds.
go build -o rcb . || exit 1
run() { echo "\$ $*"; "$@" 2>&1; }
for i in 1 2 3; do
  for c in "rueidis" "goredis" "goredis -pool 64" "goredis-ap"; do
    run ./rcb -client $c -mode publish -n 200000 -c 64
  done
  for c in "rueidis" "goredis"; do
    run ./rcb -client $c -mode receive -n 1000000
  done
done
