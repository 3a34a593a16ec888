#!/bin/bash
# Mutation check: break one protection at a time in a scratch copy of the
# tree and confirm that the test guarding it fails. Prints "caught" or
# "SURVIVED" per mutation; exits 1 if any survived. Not part of `make
# check` (it rebuilds once per mutation: about ten minutes on two cores;
# it needs python3 to apply the mutations).
#
#   tests/mutation/check-mutations.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/qb-mutation.XXXXXX")
trap 'rm -rf "$work"' EXIT
SRC=$work/src
B=$work/build
survived=0
mkdir -p "$SRC" "$B"
(cd "$top" && git ls-files -z | xargs -0 cp --parents -a -t "$SRC")
(cd "$SRC" && ./autogen.sh >/dev/null 2>&1) && (cd "$B" && "$SRC/configure" -q >/dev/null &&
	make -j2 >/dev/null 2>&1 && make -j2 check TESTS= >/dev/null 2>&1) ||
	{ echo "the unmutated tree does not build" >&2; exit 2; }
mutate() { # file, python-replace old, new, test
	f=$1 old=$2 new=$3 t=$4
	cp "$SRC/$f" "$work/orig"
	python3 -c "
import sys
p='$SRC/$f'; s=open(p).read(); o=sys.argv[1]; n=sys.argv[2]
assert o in s, 'pattern not found'
open(p,'w').write(s.replace(o,n,1))" "$old" "$new" || { echo "MUTATION NOT APPLIED: $f"; return; }
	if ! make -C $B -j2 >/dev/null 2>&1; then echo "BUILD FAILED for mutation in $f"; cp "$work/orig" "$SRC/$f"; return; fi
	if make -C $B check TESTS="$t" >/dev/null 2>&1; then echo "SURVIVED: $f [$old] ($t)"; survived=$((survived + 1)); else echo "caught: $f [$(echo "$old" | head -c 50)] by $t"; fi
	cp "$work/orig" "$SRC/$f"
}
mutate common/locks.c "if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {" "if (0) {" tests/integration/refusals.sh
mutate common/locks.c "if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_NODE_RUNNING" "if (0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_NODE_RUNNING" tests/integration/refusals.sh
mutate agent/archiver.c "	return a->st_size != b->st_size || a->st_ino != b->st_ino ||" "	return 0; return a->st_size != b->st_size || a->st_ino != b->st_ino ||" tests/integration/refusals.sh
mutate agent/archiver.c "	if (free_bytes < need) {" "	if (0) {" tests/integration/refusals.sh
mutate agent/archiver.c "		unlink(partial_path);" "		(void)0;" tests/integration/refusals.sh
mutate agent/store.c "				continue;   /* not ours: leave it alone */" "				;" tests/integration/crash.sh
mutate agent/store.c "			if (!store_id_valid(id))
				continue;
			snprintf(archive" "			snprintf(archive" tests/unit/test_store
mutate agent/store.c "		if (ends_with(de->d_name, FS_PARTIAL_SUFFIX)) {
			stale = 1;" "		if (ends_with(de->d_name, FS_PARTIAL_SUFFIX)) {
			stale = 0;" tests/integration/crash.sh
mutate agent/reader.c "!(h[4] & 0x04))" "0)" tests/integration/corruption.sh
mutate agent/verify.c "	if (!want || strcmp(want, sha256) != 0)" "	if (!want)" tests/integration/corruption.sh
mutate agent/verify.c "	if (!want || strcmp(want, got) != 0)" "	if (!want)" tests/integration/corruption.sh
mutate agent/reader.c "			if (r->frame_open || !r->started)" "			if (0)" tests/integration/corruption.sh
mutate agent/extract.c "		if (n == 2 && p[0] == '.' && p[1] == '.')" "		if (0)" tests/integration/hostile.sh
mutate agent/extract.c "	if (in[0] == '/')" "	if (0)" tests/integration/hostile.sh
mutate agent/extract.c "		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |" "		next = openat(cur, comp, O_RDONLY | O_DIRECTORY |" tests/integration/hostile.sh
mutate agent/extract.c "	else if (fchmod(x->fd, archive_entry_perm(ae) & 0777) < 0)" "	else if (fchmod(x->fd, archive_entry_perm(ae) & 07777) < 0)" tests/integration/hostile.sh
mutate agent/extract.c "	if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)" "	if (0)" tests/integration/hostile.sh
mutate agent/extract.c "		if (!is_extracted_file(x, target)) {" "		if (0) {" tests/integration/hostile.sh
mutate agent/extract.c "		if (size < 0 || (uint64_t)size > x->o->cap_bytes - x->written) {" "		if (size < 0) {" tests/integration/hostile.sh
mutate agent/swap.c "	rc = finish(data_dir, j, e);
	json_decref(j);
	if (rc == 0) {" "	rc = 0;
	json_decref(j);
	if (rc == 0) {" tests/integration/restore_crash.sh
mutate agent/ops.c "	if (have_live_key && backup_key && !u->force &&" "	if (0 &&" tests/integration/restore.sh
mutate agent/ops.c "	if (extract_backup(&r->backup, &xo, &r->v, e) < 0)
		goto discard_staging;" "	extract_backup(&r->backup, &xo, &r->v, e);" tests/integration/restore.sh
mutate common/conf.c "	if (strlen(p) + 1 > (size_t)num) {" "	if (0) {" tests/integration/config.sh
mutate agent/archiver.c "	if (strcmp(rel, AGENT_DIR) == 0)
		return 1;" "	(void)0;" tests/integration/archive_content.sh
mutate agent/archiver.c "	archive_entry_set_mtime(w->ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);" "	archive_entry_set_mtime(w->ae, st->st_mtim.tv_sec, 0);" tests/integration/archive_content.sh
mutate agent/archiver.c "			ent.link_to = first;" "			ent.link_to = -1; (void)first;" tests/integration/archive_content.sh
mutate agent/ops.c "	store_retention_plan(list, n, cf->keep_last, cf->keep_days, time(NULL)," "	store_retention_plan(list, n, 0, 0, time(NULL)," tests/integration/list_prune.sh
# The controller.
mutate controller/safety.c "	if (n_val > 0 && running < need)" "	if (0)" tests/integration/controller.sh
mutate controller/safety.c "			else if (!s->ready)" "			else if (0)" tests/integration/controller.sh
mutate controller/cmd_backup.c "	if (wait_ready(c, i, h0, &h1, why, sizeof why) < 0) {" "	if (0) {" tests/integration/controller_faults.sh
mutate controller/run.c "		if (lease_call(c, idx[k], \"POST\", msg, size, &refused) < 0) {" "		if (0) {" tests/integration/controller.sh
mutate controller/run.c "		if (lease_call(c, i, \"DELETE\", msg, sizeof msg, &refused) < 0)" "		if (0)" tests/integration/controller_faults.sh
mutate controller/cmd_restore.c "	if (missing || unreachable) {" "	if (0) {" tests/integration/controller.sh
mutate controller/cmd_restore.c "		run_on_all(c, idx, n, \"/v1/resume\", 0, \"start\", 0, quiesced);" "		(void)run_on_all;" tests/integration/controller.sh
mutate agent/api.c "	if (!reason[0] && a->stopped_by[0])" "	if (0)" tests/integration/controller.sh
echo "$survived survived"
[ "$survived" = 0 ]
