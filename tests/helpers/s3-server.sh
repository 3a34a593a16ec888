#!/bin/sh
# s3-server.sh: a real S3 server for the tests, Ceph's object gateway from
# Debian's packages (radosgw, ceph-mon, ceph-osd): one monitor, one OSD
# (memstore: in RAM), one gateway, all on 127.0.0.1, cephx off, pools of
# size 1, every daemon in the foreground so that its PID is ours.
#
#   s3-server.sh start DIR [PORT]   start it (default port 7480); DIR
#                                   (made, must be empty or absent) gets
#                                   the configuration, data, logs, the
#                                   daemons' PIDs in DIR/pids and
#                                   DIR/env: S3_ENDPOINT, S3_ACCESS_KEY,
#                                   S3_SECRET_KEY, S3_PIDS (sh syntax)
#   s3-server.sh stop DIR           stop the daemons by PID, gateway first
#   s3-server.sh restart-gateway DIR
#                                   kill the gateway (SIGKILL) and start it
#                                   again on the same port
#
# The gateway answers in about 13 s. It checks SigV4 (a wrong secret gets
# 403), enforces 5 MiB parts and part ETags, and implements ListParts and
# Abort. No mgr runs: health stays HEALTH_WARN, which is harmless. Every
# wait is bounded (60 s); on failure the daemons started are stopped and
# the end of their logs is printed.
#
# Environment: S3_MEMSTORE_BYTES, the OSD's memstore size in bytes (Ceph's
# memstore_device_bytes; unset or empty: Ceph's default, 1 GiB). The
# memory is taken as objects are written; the OSD refuses writes near it.
set -eu

usage() {
	sed -n '7,18s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
port=${3:-7480}

# wait_until SECONDS CMD...: run CMD every 0.2 s until it succeeds.
wait_until() {
	wu_n=$(($1 * 5))
	shift
	while [ "$wu_n" -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
		wu_n=$((wu_n - 1))
	done
	return 1
}

stop_all() {
	[ -f "$dir/pids" ] || return 0
	# The gateway first, the monitor last.
	for pid in $(tac "$dir/pids"); do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $(cat "$dir/pids"); do
		n=50
		while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
			sleep 0.2
			n=$((n - 1))
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -f "$dir/pids"
}

give_up() {
	echo "s3-server: $*" >&2
	for log in "$dir"/log/*.log; do
		[ -f "$log" ] || continue
		echo "=== $log" >&2
		tail -20 "$log" >&2
	done
	stop_all
	exit 1
}

# A daemon in the foreground, its PID appended to DIR/pids.
daemon() {
	name=$1
	shift
	"$@" >>"$dir/log/$name.out" 2>&1 &
	echo $! >>"$dir/pids"
}

gateway_answers() {
	curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"
}

start_gateway() {
	daemon radosgw radosgw -c "$dir/ceph.conf" -n client.rgw -f
	wait_until 60 gateway_answers || give_up "the gateway does not answer on 127.0.0.1:$port"
}

case $cmd in
start)
	memstore_line=
	case ${S3_MEMSTORE_BYTES:-} in
	'') ;;
	*[!0-9]*) echo "s3-server: S3_MEMSTORE_BYTES=$S3_MEMSTORE_BYTES: not a number of bytes" >&2; exit 2 ;;
	*) memstore_line="memstore_device_bytes = $S3_MEMSTORE_BYTES" ;;
	esac
	for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph uuidgen curl; do
		command -v $tool >/dev/null 2>&1 ||
			{ echo "s3-server: $tool is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
	done
	if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
		echo "s3-server: $dir is not empty" >&2
		exit 2
	fi
	mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log"
	dir=$(cd "$dir" && pwd)
	fsid=$(uuidgen)
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$((port + 1))
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $dir/run
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
ms_bind_ipv6 = false

[mon]
mon_data = $dir/mon
mon_warn_on_pool_no_redundancy = false

[osd]
osd_data = $dir/osd
osd_objectstore = memstore
$memstore_line

[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$port
rgw_dns_name = localhost
ms_mon_client_mode = crc
EOF
	ceph_() { ceph -c "$dir/ceph.conf" --connect-timeout 10 "$@"; }
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$((port + 1))]" \
		"$dir/monmap" >/dev/null 2>&1 || give_up "monmaptool failed"
	ceph-mon -c "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" \
		>>"$dir/log/mkfs.out" 2>&1 || give_up "ceph-mon --mkfs failed"
	daemon ceph-mon ceph-mon -c "$dir/ceph.conf" -i a -f
	wait_until 60 ceph_ mon stat || give_up "the monitor does not answer"
	osd_uuid=$(uuidgen)
	osd_id=$(ceph_ osd new "$osd_uuid" 2>>"$dir/log/mkfs.out") || give_up "ceph osd new failed"
	ceph-osd -c "$dir/ceph.conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" \
		>>"$dir/log/mkfs.out" 2>&1 || give_up "ceph-osd --mkfs failed"
	daemon ceph-osd ceph-osd -c "$dir/ceph.conf" -i "$osd_id" -f
	osd_up() { ceph_ osd stat 2>/dev/null | grep -q ' 1 up'; }
	wait_until 60 osd_up || give_up "the OSD does not come up"
	start_gateway
	ak=qbtest$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
	sk=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	radosgw-admin -c "$dir/ceph.conf" -n client.rgw user create --uid=qbtest \
		--display-name=qbtest --access-key="$ak" --secret-key="$sk" \
		>>"$dir/log/mkfs.out" 2>&1 || give_up "radosgw-admin user create failed"
	{
		echo "S3_ENDPOINT=http://127.0.0.1:$port"
		echo "S3_ACCESS_KEY=$ak"
		echo "S3_SECRET_KEY=$sk"
		echo "S3_PIDS='$(tr '\n' ' ' <"$dir/pids")'"
	} >"$dir/env"
	;;
stop)
	stop_all
	;;
restart-gateway)
	[ -f "$dir/pids" ] || { echo "s3-server: nothing runs in $dir" >&2; exit 1; }
	port=$(sed -n 's/^rgw_frontends = beast endpoint=127.0.0.1://p' "$dir/ceph.conf")
	gw=$(tail -1 "$dir/pids")
	kill -9 "$gw" 2>/dev/null || true
	while kill -0 "$gw" 2>/dev/null; do sleep 0.1; done
	sed -i '$d' "$dir/pids"
	start_gateway
	sed -i "s/^S3_PIDS=.*/S3_PIDS='$(tr '\n' ' ' <"$dir/pids")'/" "$dir/env"
	;;
*)
	usage
	;;
esac
