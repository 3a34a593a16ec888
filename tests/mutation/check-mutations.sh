#!/bin/bash
# Mutation check: break one protection at a time in a scratch copy of the
# tree and confirm that the test guarding it fails. Prints "caught" or
# "SURVIVED" per mutation; exits 1 if any survived. Not part of `make
# check` (it rebuilds once per mutation: about ten minutes on two cores;
# it needs python3 to apply the mutations).
#
#   tests/mutation/check-mutations.sh           every mutation, with its test
#   tests/mutation/check-mutations.sh --check   only that each still applies
#                                                (its pattern is in its file)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
survived=0
if [ "${1:-}" = --check ]; then
	# Only that each pattern is still in its file and each test exists.
	mutate() { # file, old, new, test
		python3 -c "
import sys
sys.exit(0 if sys.argv[2] in open(sys.argv[1]).read() else 1)" \
			"$top/$1" "$2" 2>/dev/null ||
			{ echo "STALE: $1 [$(echo "$2" | head -1)]"; survived=$((survived + 1)); }
		case $4 in
		tests/unit/*) [ -f "$top/$4.c" ] ;;
		*) [ -f "$top/$4" ] ;;
		esac || { echo "NO TEST: $4"; survived=$((survived + 1)); }
	}
else
work=$(mktemp -d "${TMPDIR:-/tmp}/qb-mutation.XXXXXX")
trap 'rm -rf "$work"' EXIT
SRC=$work/src
B=$work/build
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
open(p,'w').write(s.replace(o,n,1))" "$old" "$new" || { echo "MUTATION NOT APPLIED: $f"; survived=$((survived + 1)); return; }
	if ! make -C $B -j2 >/dev/null 2>&1; then echo "BUILD FAILED for mutation in $f"; cp "$work/orig" "$SRC/$f"; return; fi
	if make -C $B check TESTS="$t" >/dev/null 2>&1; then echo "SURVIVED: $f [$old] ($t)"; survived=$((survived + 1)); else echo "caught: $f [$(echo "$old" | head -c 50)] by $t"; fi
	cp "$work/orig" "$SRC/$f"
}
fi
mutate common/locks.c "if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {" "if (0) {" tests/integration/refusals.sh
mutate common/locks.c "if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_NODE_RUNNING" "if (0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_NODE_RUNNING" tests/integration/refusals.sh
mutate agent/engine/archiver.c "	return a->st_size != b->st_size || a->st_ino != b->st_ino ||" "	return 0; return a->st_size != b->st_size || a->st_ino != b->st_ino ||" tests/integration/refusals.sh
mutate agent/engine/archiver.c "	if (free_bytes < need)" "	if (0)" tests/integration/refusals.sh
mutate agent/engine/archiver.c "		unlinkat(o->store->dirfd, an.partial_name, 0);" "		(void)0;" tests/integration/refusals.sh
mutate agent/engine/store.c "		return 0;   /* not ours: leave it alone */" "		;" tests/integration/crash.sh
mutate agent/engine/store.c "			if (!store_id_valid(id))
				continue;
			found = backup_at" "			found = backup_at" tests/unit/test_store_dir
mutate agent/engine/store.c "	if (ends_with(name, FS_PARTIAL_SUFFIX))
		return 1;" "	if (ends_with(name, FS_PARTIAL_SUFFIX))
		return 0;" tests/integration/crash.sh
mutate agent/engine/reader.c "!(h[4] & 0x04))" "0)" tests/integration/corruption.sh
mutate agent/engine/verify.c "	if (!want || strcmp(want, sha256) != 0)" "	if (!want)" tests/integration/corruption.sh
mutate agent/engine/verify.c "	if (!want || strcmp(want, got) != 0)" "	if (!want)" tests/integration/corruption.sh
mutate agent/engine/reader.c "			if (r->frame_open || !r->started)" "			if (0)" tests/integration/corruption.sh
mutate agent/engine/extract.c "		if (n == 2 && p[0] == '.' && p[1] == '.')" "		if (0)" tests/integration/hostile.sh
mutate agent/engine/extract.c "	if (in[0] == '/')" "	if (0)" tests/integration/hostile.sh
mutate agent/engine/extract.c "		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |" "		next = openat(cur, comp, O_RDONLY | O_DIRECTORY |" tests/integration/hostile.sh
mutate agent/engine/extract.c "	else if (fchmod(x->fd, archive_entry_perm(ae) & 0777) < 0)" "	else if (fchmod(x->fd, archive_entry_perm(ae) & 07777) < 0)" tests/integration/hostile.sh
mutate agent/engine/extract.c "	if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)" "	if (0)" tests/integration/hostile.sh
mutate agent/engine/extract.c "	if (!is_extracted_file(x, target))" "	if (0)" tests/integration/hostile.sh
mutate agent/engine/extract.c "	if (size < 0 || (uint64_t)size > x->o->cap_bytes - x->written)" "	if (size < 0)" tests/integration/hostile.sh
mutate agent/engine/swap.c "	rc = finish(d, j, e);
	json_decref(j);
	if (rc == 0) {" "	rc = 0;
	json_decref(j);
	if (rc == 0) {" tests/integration/restore_crash.sh
mutate agent/engine/ops.c "	if (up->have_live_key && up->backup_key && !up->u->force &&" "	if (0 &&" tests/integration/restore.sh
mutate agent/engine/ops.c "	if (extract_backup(&up->r->backup, &up->xo, &up->r->v, e) < 0)
		return -1;
	if (!up->backup_key" "	extract_backup(&up->r->backup, &up->xo, &up->r->v, e);
	if (!up->backup_key" tests/integration/restore.sh
mutate common/conf.c "	if (strlen(p) + 1 > (size_t)num) {" "	if (0) {" tests/integration/config.sh
mutate agent/engine/archiver.c "	if (strcmp(rel, DATADIR_AGENT) == 0)
		return 1;" "	(void)0;" tests/integration/archive_content.sh
mutate agent/engine/archiver.c "	archive_entry_set_mtime(w->ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);" "	archive_entry_set_mtime(w->ae, st->st_mtim.tv_sec, 0);" tests/integration/archive_content.sh
mutate agent/engine/archiver.c "			ent.link_to = first;" "			ent.link_to = -1; (void)first;" tests/integration/archive_content.sh
mutate agent/engine/ops.c "	store_retention_plan(list, n, cf->keep_last, cf->keep_days, time(NULL)," "	store_retention_plan(list, n, 0, 0, time(NULL)," tests/integration/list_prune.sh
# The controller.
mutate controller/safety.c "	if (n_val > 0 && running < need)" "	if (0)" tests/integration/controller.sh
mutate controller/safety.c "			else if (s->down)" "			else if (0)" tests/integration/controller.sh
mutate controller/cmd_backup.c "	if (wait_ready(c, i, h0, &h1, why, sizeof why) < 0) {" "	if (0) {" tests/integration/controller_faults.sh
mutate controller/run.c "		if (lease_call(c, idx[k], \"POST\", msg, size, &refused) < 0) {" "		if (0) {" tests/integration/controller.sh
mutate controller/run.c "		if (lease_call(c, i, \"DELETE\", msg, sizeof msg, &refused) < 0)" "		if (0)" tests/integration/controller_faults.sh
mutate controller/cmd_restore.c "	if (!missing && !unreachable)" "	if (1)" tests/integration/controller.sh
mutate controller/cmd_restore.c "	run_on_all(c, rs->idx, rs->n, \"/v1/resume\"" "	if (0) run_on_all(c, rs->idx, rs->n, \"/v1/resume\"" tests/integration/controller.sh
mutate agent/jobs/state.c "	if (s->job_active && state_phase_down(s->phase)) {" "	if (0) {" tests/unit/test_state
if [ "${1:-}" = --check ]; then echo "$survived stale"; else echo "$survived survived"; fi
[ "$survived" = 0 ]
