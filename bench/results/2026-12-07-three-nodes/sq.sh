#!/bin/bash
# sq.sh: the kernel's queues of established TCP sockets, summed: those with an end on
# 4222 or 6379 (the nodes' broker connections) and all others (the WebSocket connections).
ss -tnH state established 2>/dev/null | awk '{b=($4 ~ /:(4222|6379)$/ || $5 ~ /:(4222|6379)$/); if(b){br+=$1; bs+=$2} else {xr+=$1; xs+=$2}} END{printf "broker recvQ %.1fMB sendQ %.1fMB | others recvQ %.1fMB sendQ %.1fMB", br/1048576, bs/1048576, xr/1048576, xs/1048576}'
