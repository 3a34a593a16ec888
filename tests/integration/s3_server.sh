#!/bin/sh
# The S3 server the off-site tests run against, Ceph's object gateway
# (tests/helpers/s3-server.sh), is real: Debian's awscli makes a bucket,
# puts a 12 MiB object (multipart) and gets it back byte for byte; SigV4 is
# checked (curl --aws-sigv4 with the right secret gets 200, with a wrong
# one 403, and without x-amz-content-sha256 403); the object survives a
# restart of the gateway; stop leaves no daemon running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"

[ -x /usr/bin/aws ] || fail "awscli is not installed (scripts/install-deps.sh installs it)"
start_s3
ok "the gateway answers on $S3_ENDPOINT"

aws_s3 s3 mb s3://qb-test >/dev/null
head -c 12582912 /dev/urandom >"$T/obj"
aws_s3 s3 cp --only-show-errors "$T/obj" s3://qb-test/member1/obj
aws_s3 s3 cp --only-show-errors s3://qb-test/member1/obj "$T/back"
cmp "$T/obj" "$T/back" || fail "the object came back changed"
aws_s3 s3api head-object --bucket qb-test --key member1/obj >"$T/head.json"
case $(jq -r .ETag "$T/head.json") in *-*) ;; *) fail "not a multipart ETag: $(cat "$T/head.json")" ;; esac
ok "awscli: bucket, a 12 MiB multipart object up and down byte for byte"

# SigV4 as curl 7.88 signs it (what the agent's client does).
sig() { # SECRET [HEADER]: the status of a signed GET of the object
	curl -s -o /dev/null -w '%{http_code}' -m 30 --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$S3_ACCESS_KEY:$1" ${2:+-H "$2"} "$S3_ENDPOINT/qb-test/member1/obj"
}
st=$(sig "$S3_SECRET_KEY" "x-amz-content-sha256: UNSIGNED-PAYLOAD")
[ "$st" = 200 ] || fail "a signed GET: HTTP $st"
st=$(sig wrong-secret "x-amz-content-sha256: UNSIGNED-PAYLOAD")
[ "$st" = 403 ] || fail "a wrong secret: HTTP $st, not 403"
st=$(sig "$S3_SECRET_KEY")
[ "$st" = 403 ] || fail "no x-amz-content-sha256: HTTP $st, not 403"
st=$(curl -s -o /dev/null -w '%{http_code}' -m 30 "$S3_ENDPOINT/qb-test/member1/obj")
[ "$st" = 403 ] || fail "anonymous: HTTP $st, not 403"
ok "SigV4 is checked: the right secret 200; a wrong one, no payload hash, anonymous: 403"

sh "$S3_SERVER" restart-gateway "$S3_DIR" >"$T/restart.out" 2>&1 ||
	{ cat "$T/restart.out" >&2; fail "restart-gateway failed"; }
for p in $(cat "$S3_DIR/pids"); do track_pid "$p"; done
aws_s3 s3 cp --only-show-errors s3://qb-test/member1/obj "$T/back2"
cmp "$T/obj" "$T/back2" || fail "the object changed across a gateway restart"
ok "the gateway killed and started again: the object is still there"

pids=$(cat "$S3_DIR/pids")
stop_s3
for p in $pids; do
	alive "$p" && fail "daemon $p still runs after stop"
done
ok "stop: no daemon left"

finish
