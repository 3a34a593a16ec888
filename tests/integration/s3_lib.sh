# The S3 server of the tests that need one: Ceph's object gateway on
# 127.0.0.1 (tests/helpers/s3-server.sh), its daemons' PIDs tracked so
# that the test's cleanup stops them. Source after lib.sh.
S3_SERVER="$top_srcdir/tests/helpers/s3-server.sh"

# start_s3: the gateway on a free pair of ports (the monitor takes the
# port after the gateway's); S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and
# S3_DIR set, AWS_* exported for /usr/bin/aws (never another aws on PATH),
# and `aws_s3 ARGS...` to call it.
start_s3() {
	s3_try=0
	while :; do
		s3_port=$((21000 + (($$ + s3_try * 7919) % 4000) * 2))
		S3_DIR=$T/s3.$s3_try
		if sh "$S3_SERVER" start "$S3_DIR" "$s3_port" >"$T/s3-start.out" 2>&1; then
			break
		fi
		for p in $(cat "$S3_DIR/pids" 2>/dev/null); do track_pid "$p"; done
		s3_try=$((s3_try + 1))
		[ $s3_try -lt 3 ] || { cat "$T/s3-start.out" >&2; fail "the S3 gateway did not start"; }
	done
	for p in $(cat "$S3_DIR/pids"); do
		track_pid "$p"
	done
	. "$S3_DIR/env"
	AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
	AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
	AWS_DEFAULT_REGION=us-east-1
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
	# awscli reads no configuration of this machine's user.
	AWS_CONFIG_FILE=$T/aws-config
	AWS_SHARED_CREDENTIALS_FILE=$T/aws-credentials
	export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
}

aws_s3() {
	/usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"
}

# stop_s3: the daemons stopped by PID (the cleanup also does, if a test
# fails first).
stop_s3() {
	sh "$S3_SERVER" stop "$S3_DIR"
}

# offsite_setup: the gateway, the bucket qb-test, the test's data (mkdata
# and 30 MiB that do not compress: several parts), the store's keys in
# $T/ak and $T/sk (0600).
offsite_setup() {
	[ -x /usr/bin/aws ] || fail "awscli is not installed (scripts/install-deps.sh installs it)"
	start_s3
	aws_s3 s3 mb s3://qb-test >/dev/null
	mkdata
	head -c 31457280 /dev/urandom >"$T/data/geth/chaindata/000003.ldb"
	printf '%s\n' "$S3_ACCESS_KEY" >"$T/ak"
	printf '%s\n' "$S3_SECRET_KEY" >"$T/sk"
	chmod 600 "$T/sk"
}
