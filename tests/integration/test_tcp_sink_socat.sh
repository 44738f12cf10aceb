#!/usr/bin/env bash
# TCP backend against socat (a receiver meshlog does not implement) writing to a file. The
# receiver hangs (SIGSTOP: its kernel keeps ACKing into the socket receive buffer, which nobody
# reads) and is then killed (SIGKILL) mid-stream and restarted on the same port; every record
# must arrive (at-least-once), no line may be garbled, and the sink must report nothing dropped.
# The hang makes the receiver die holding ACKed-but-unread records, which only the sink's
# replay window brings back (DRIVER_ARGS="--replay-window-ms 0" makes this test fail).
LIB_WORK_TEMPLATE=/tmp/meshlog-tcp-socat.XXXXXX LIB_KILL_SIGNAL=KILL
. "$(dirname "$0")/lib.sh"
DRIVER=${MESHLOG_NETSINK_DRIVER:-$(dirname "${MESHLOG_BIN:?MESHLOG_BIN or MESHLOG_NETSINK_DRIVER must be set}")/../sink/meshlog_netsink_driver}
COUNT=${COUNT:-300000}
RATE=${RATE:-100000}
port=$($PY "$SRC/tests/receivers/free_port.py")

socat -u TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr OPEN:"$work/out.1",creat,append &
rx1=$!
pids+=("$rx1")
sleep 0.3
"$DRIVER" tcp --address "127.0.0.1:$port" --count "$COUNT" --rate "$RATE" --reconnect-max-ms 200 --queue-records 400000 ${DRIVER_ARGS:-} \
  --drain-ms 30000 > "$work/stats.json" &
drv=$!
pids+=("$drv")
sleep 1
kill -STOP "$rx1"
sleep 0.5
kill -9 "$rx1"
echo "killed receiver 1 after $(wc -l < "$work/out.1") lines"
sleep 0.7
socat -u TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr OPEN:"$work/out.2",creat,append &
rx2=$!
pids+=("$rx2")
wait "$drv"
# socat exits when the sink closes the connection at shutdown.
for _ in $(seq 100); do kill -0 "$rx2" 2>/dev/null || break; sleep 0.1; done
cat "$work/stats.json"
$PY "$SRC/tests/receivers/tcp_check.py" --count "$COUNT" --stats "$work/stats.json" --expect-reconnect \
  "$work/out.1" "$work/out.2"
