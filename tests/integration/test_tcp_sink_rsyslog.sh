#!/usr/bin/env bash
# TCP backend against rsyslog's imtcp (a private rsyslogd: own config, pid file and work dir on a
# loopback port; the system rsyslog is not touched). rsyslogd is killed (SIGKILL) mid-stream and
# restarted; every record must arrive (at-least-once), none garbled, nothing dropped by the sink.
LIB_WORK_TEMPLATE=/tmp/meshlog-tcp-rsyslog.XXXXXX LIB_KILL_SIGNAL=KILL
. "$(dirname "$0")/lib.sh"
DRIVER=${MESHLOG_NETSINK_DRIVER:-$(dirname "${MESHLOG_BIN:?MESHLOG_BIN or MESHLOG_NETSINK_DRIVER must be set}")/../sink/meshlog_netsink_driver}
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
COUNT=${COUNT:-150000}
RATE=${RATE:-50000}
port=$($PY "$SRC/tests/receivers/free_port.py")

start_rsyslog() {  # $1 = instance number
  mkdir -p "$work/spool.$1"
  cat > "$work/rsyslog.$1.conf" <<CONF
global(workDirectory="$work/spool.$1" maxMessageSize="64k")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="meshlog") {
  action(type="omfile" file="$work/out.$1" template="raw")
}
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="meshlog" supportOctetCountedFraming="off")
CONF
  rm -f "$work/rsyslog.pid"
  "$RSYSLOGD" -n -f "$work/rsyslog.$1.conf" -i "$work/rsyslog.pid" &
  rx=$!
  pids+=("$rx")
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
  done
}

start_rsyslog 1
rx1=$rx
"$DRIVER" tcp --address "127.0.0.1:$port" --count "$COUNT" --rate "$RATE" --reconnect-max-ms 200 ${DRIVER_ARGS:-} \
  --drain-ms 30000 > "$work/stats.json" &
drv=$!
pids+=("$drv")
sleep 1
kill -9 "$rx1"
echo "killed rsyslogd 1 after $(wc -l < "$work/out.1" 2>/dev/null || echo 0) lines"
sleep 0.7
start_rsyslog 2
rx2=$rx
wait "$drv"
sleep 0.5
kill -TERM "$rx2"  # rsyslogd flushes its queue and files on SIGTERM
wait "$rx2" || true
touch "$work/out.1" "$work/out.2"
cat "$work/stats.json"
$PY "$SRC/tests/receivers/tcp_check.py" --count "$COUNT" --stats "$work/stats.json" --expect-reconnect \
  "$work/out.1" "$work/out.2"
