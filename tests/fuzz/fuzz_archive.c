/* fuzz_archive: the backup engine's verify and unpack on hostile archives.
 *
 * Each input is written as one member's backup in a fresh temporary tree
 *
 *   ROOT/backups/member1/20200101T000000Z.tar.zst (+ .json)  or
 *   ROOT/backups/member1/20200101T000000Z.tar.gz   (legacy, no metadata)
 *   ROOT/data/        a small live data directory (geth/nodekey, ...)
 *   ROOT/outside/     a file that must never change
 *
 * then op_verify() and op_unpack() run on it, as the agent's verify and
 * unpack commands do. Whatever they return, nothing may be written outside
 * ROOT/data (and the store's own files in member1), the outside file stays
 * as it was, and a failed staged unpack leaves the live tree unchanged.
 * ROOT is removed after every input.
 *
 * The first byte picks how the rest becomes a backup:
 *   bits 0-2 (mode):
 *     0  the rest is a .tar.zst file; metadata derived from its content
 *        (entries, sizes, hashes) when it decompresses, else a fixed
 *        valid-looking one; archive size and SHA-256 always right
 *     1  the rest is a legacy .tar.gz file
 *     2  the rest is a plain tar: compressed here to .tar.zst (with frame
 *        checksums), with metadata that agrees with it, so that only the
 *        extraction's own checks stand between it and the disk (in this
 *        mode and the others that take a plain tar, the harness makes each
 *        header's checksum right first: mutations of names and types get
 *        through to the engine)
 *     3  the rest is a plain tar: gzipped here into a legacy .tar.gz
 *     4  the rest is LEN (2 bytes, big-endian), LEN bytes of metadata JSON
 *        (its archive size and SHA-256 corrected when it is an object),
 *        then a .tar.zst file
 *     5  as 4, but what follows the JSON is a plain tar, compressed here
 *     6  as 2, but the metadata undercounts the bytes (the size cap) and
 *        records another node key (the identity check)
 *     7  as 2, with every path in the metadata hex-encoded ("path_hex")
 *   bit 3: unpack in place; bit 4: --force. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "agent_conf.h"
#include "hashes.h"
#include "log.h"
#include "ops.h"

#define ID "20200101T000000Z"
#define NODE_KEY "node key of the live tree\n"
/* What the harness decompresses itself to derive metadata (mode 0). */
#define DERIVE_MAX (8u << 20)

static char base[4096];       /* one per process, holds ROOT */
static char root[4200];
static char data_dir[4300], backup_dir[4300], member_dir[4400];
static char outside[4300];
static struct agent_conf cf;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_archive: %s: %s\n", what, strerror(errno));
	abort();
}

/* A broken invariant: the input that got here is a finding. */
#define CHECK(cond, ...) do {                                          \
	if (!(cond)) {                                                     \
		fprintf(stderr, "fuzz_archive: check failed: %s: ", #cond);    \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		abort();                                                       \
	}                                                                  \
} while (0)

static void
put_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(path);
	if (len && write(fd, buf, len) != (ssize_t)len)
		die(path);
	close(fd);
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0)
		die(path);
}

static int
unlock_dir(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		chmod(p, 0700);
	return 0;
}

static int
remove_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP ? rmdir(p) : unlink(p))
		die(p);
	return 0;
}

/* rm -rf, read-only directories included (the archive sets modes). */
static void
rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return;
	nftw(path, unlock_dir, 16, FTW_PHYS);
	if (nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH) < 0)
		die(path);
}

/* The names in dir, sorted, as "a,b,c" ("" when empty). */
static void
names(const char *dir, char *out, size_t size)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	size_t o = 0;

	out[0] = '\0';
	if (n < 0 && errno == ENOENT)
		return;
	if (n < 0)
		die(dir);
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
			o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s",
			    o ? "," : "", list[i]->d_name);
		free(list[i]);
	}
	free(list);
}

/* A signature of a tree: every entry's path, type, mode, size and, for
 * files, content hash; dir/.quorum-backup left out. */
static char *sig_buf;
static size_t sig_len;
static FILE *sig_f;
static size_t sig_skip;

static int
sig_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	const char *rel = p + sig_skip;

	(void)type;
	if (f->level == 0)
		return FTW_CONTINUE;   /* the directory itself, made by whoever */
	if (f->level == 1 && strcmp(p + f->base, DATADIR_AGENT) == 0)
		return FTW_SKIP_SUBTREE;
	/* A directory's size is the file system's business (tmpfs counts
	 * its entries, .quorum-backup included). */
	fprintf(sig_f, "%s|%o|%lld", rel, (unsigned)st->st_mode,
	    S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size);
	if (S_ISREG(st->st_mode)) {
		char *buf;
		size_t len;
		FILE *in = fopen(p, "rb");
		char hex[SHA256_HEX_LEN + 1];
		struct sha256 *h = sha256_new();
		if (!in || !h)
			die(p);
		buf = malloc(1 << 16);
		while ((len = fread(buf, 1, 1 << 16, in)) > 0)
			sha256_update(h, buf, len);
		free(buf);
		fclose(in);
		sha256_final_hex(h, hex);
		sha256_free(h);
		fprintf(sig_f, "|%s", hex);
	} else if (S_ISLNK(st->st_mode)) {
		char t[4096];
		ssize_t n = readlink(p, t, sizeof t - 1);
		fprintf(sig_f, "|%.*s", n > 0 ? (int)n : 0, t);
	}
	fputc('\n', sig_f);
	return FTW_CONTINUE;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text sorted (directory order is the file system's). */
static char *
sorted_lines(char *text)
{
	size_t n = 0, len = strlen(text), o = 0;
	char **v, *out, *save = NULL;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	if (!(v = calloc(n + 1, sizeof *v)) || !(out = malloc(len + 1)))
		die("malloc");
	n = 0;
	for (char *l = strtok_r(text, "\n", &save); l;
	    l = strtok_r(NULL, "\n", &save))
		v[n++] = l;
	qsort(v, n, sizeof *v, cmp_str);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(out + o, "%s\n", v[i]);
	out[o] = '\0';
	free(v);
	free(text);
	return out;
}

static char *
tree_sig(const char *dir)
{
	sig_buf = NULL;
	sig_len = 0;
	if (!(sig_f = open_memstream(&sig_buf, &sig_len)))
		die("open_memstream");
	sig_skip = strlen(dir);
	if (nftw(dir, sig_one, 16, FTW_PHYS | FTW_ACTIONRETVAL) < 0)
		die(dir);
	fclose(sig_f);
	return sorted_lines(sig_buf);
}

static void
sha256_hex(const void *buf, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();

	if (!h)
		die("sha256_new");
	sha256_update(h, buf, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
}

/* ---- building backups ------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len;
};

/* A zstd file with frame checksums, as the agent writes. */
static struct buf
zstd_of(const uint8_t *in, size_t len)
{
	struct buf b;
	ZSTD_CCtx *z = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(len), r;

	b.p = malloc(cap);
	if (!z || !b.p)
		die("zstd");
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
	r = ZSTD_compress2(z, b.p, cap, in, len);
	if (ZSTD_isError(r))
		die("ZSTD_compress2");
	b.len = r;
	ZSTD_freeCCtx(z);
	return b;
}

static struct buf
gzip_of(const uint8_t *in, size_t len)
{
	struct buf b;
	z_stream zs;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2");
	b.len = deflateBound(&zs, (uLong)len);
	if (!(b.p = malloc(b.len)))
		die("malloc");
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = b.p;
	zs.avail_out = (uInt)b.len;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		die("deflate");
	b.len = zs.total_out;
	deflateEnd(&zs);
	return b;
}

/* A copy of a plain tar with every header's checksum made right, so that
 * a mutation of a name, a type or a size reaches the engine instead of
 * failing libarchive's checksum test. Headers are found as tar finds them:
 * one, then its data (size rounded up to blocks), then the next. */
static struct buf
tar_fixed(const uint8_t *in, size_t len)
{
	struct buf b;
	size_t off = 0;

	if (!(b.p = malloc(len ? len : 1)))
		die("malloc");
	memcpy(b.p, in, len);
	b.len = len;
	while (off + 512 <= len) {
		unsigned char *h = b.p + off;
		unsigned long sum = 0;
		unsigned long long size = 0;
		int zero = 1;

		for (size_t i = 0; i < 512 && zero; i++)
			zero = h[i] == 0;
		off += 512;
		if (zero)
			continue;
		memset(h + 148, ' ', 8);
		for (size_t i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06lo", sum & 0777777);
		h[155] = ' ';
		if (h[124] & 0x80) {
			for (size_t i = 125; i < 136; i++)
				size = size << 8 | h[i];
		} else {
			for (size_t i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
				size = size << 3 | (unsigned)(h[i] - '0');
		}
		if (size > len)
			break;
		off += (size_t)((size + 511) / 512 * 512);
	}
	return b;
}

/* Decompress a zstd file, at most DERIVE_MAX bytes; len 0 on failure. */
static struct buf
unzstd(const uint8_t *in, size_t len)
{
	struct buf b = { NULL, 0 };
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };

	if (!d || !(b.p = malloc(DERIVE_MAX)))
		die("zstd");
	for (;;) {
		ZSTD_outBuffer ob = { b.p + b.len, DERIVE_MAX - b.len, 0 };
		size_t r = ZSTD_decompressStream(d, &ob, &ib);
		b.len += ob.pos;
		if (ZSTD_isError(r) || (b.len == DERIVE_MAX && r != 0)) {
			b.len = 0;   /* damaged, or too big to look at here */
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size)
			break;
	}
	ZSTD_freeDCtx(d);
	return b;
}

/* A name for the metadata: "KEY": "name", or "KEY_hex" for names that
 * are not UTF-8 (as the agent records them) or when hex is asked for. */
static void
set_path(json_t *o, const char *key, const char *s, int hex)
{
	char k[32];
	json_t *v = hex ? NULL : json_string(s);
	char *h;

	if (v) {
		json_object_set_new(o, key, v);
		return;
	}
	if (!(h = malloc(2 * strlen(s) + 1)))
		die("malloc");
	for (size_t i = 0; s[i]; i++)
		sprintf(h + 2 * i, "%02x", (unsigned char)s[i]);
	h[2 * strlen(s)] = '\0';
	snprintf(k, sizeof k, "%s_hex", key);
	json_object_set_new(o, k, json_string(h));
	free(h);
}

/* Metadata that agrees with a plain tar, entry by entry, as far as the
 * tar reads. */
static json_t *
derive_meta(const uint8_t *tar, size_t len, int hex)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	json_t *entries = json_array();
	long long bytes = 0, files = 0;
	struct filehash *fh = filehash_new();

	if (!a || !fh)
		die("archive_read_new");
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar, len) == ARCHIVE_OK) {
		while (archive_read_next_header(a, &ae) >= ARCHIVE_WARN) {
			const char *p = archive_entry_pathname(ae);
			const char *hl = archive_entry_hardlink(ae);
			const char *type;
			char path[4096];
			size_t n;
			json_t *je;

			if (!p)
				break;
			n = strlen(p);
			while (n > 1 && p[n - 1] == '/')
				n--;
			if (n >= sizeof path)
				break;
			memcpy(path, p, n);
			path[n] = '\0';
			if (hl)
				type = "hardlink";
			else if (archive_entry_filetype(ae) == AE_IFREG)
				type = "file";
			else if (archive_entry_filetype(ae) == AE_IFDIR)
				type = "dir";
			else if (archive_entry_filetype(ae) == AE_IFLNK)
				type = "symlink";
			else
				type = "special";
			je = json_pack("{s:s, s:i}", "type", type, "mode",
			    (int)(archive_entry_perm(ae) & 07777));
			set_path(je, "path", path, hex);
			if (hl)
				set_path(je, "target", hl, hex);
			else if (strcmp(type, "symlink") == 0 &&
			    archive_entry_symlink(ae))
				set_path(je, "target", archive_entry_symlink(ae), hex);
			filehash_reset(fh);
			const void *blk;
			size_t blen;
			la_int64_t off;
			int r;
			while ((r = archive_read_data_block(a, &blk, &blen, &off)) ==
			    ARCHIVE_OK)
				filehash_update(fh, blk, blen);
			if (strcmp(type, "file") == 0) {
				char h[FILEHASH_STR_LEN + 1];
				filehash_final(fh, h);
				json_object_set_new(je, "size",
				    json_integer(archive_entry_size(ae)));
				json_object_set_new(je, "hash", json_string(h));
				bytes += archive_entry_size(ae);
			}
			json_array_append_new(entries, je);
			files++;
			if (r != ARCHIVE_EOF)
				break;
		}
	}
	archive_read_free(a);
	filehash_free(fh);
	return json_pack("{s:i, s:s, s:I, s:I, s:s, s:n, s:o}", "format", 1,
	    "id", ID, "bytes", (json_int_t)bytes, "files", (json_int_t)files,
	    "file_hash", FILE_HASH_ALGO, "node", "entries", entries);
}

/* A fixed metadata document for archives the harness cannot read. */
static json_t *
fixed_meta(void)
{
	return json_pack("{s:i, s:s, s:I, s:I, s:s, s:n, s:[{s:s, s:s, s:I, "
	    "s:s, s:i}]}", "format", 1, "id", ID, "bytes", (json_int_t)6,
	    "files", (json_int_t)1, "file_hash", FILE_HASH_ALGO, "node",
	    "entries", "path", "geth/nodekey", "type", "file", "size",
	    (json_int_t)6, "hash", "xxh3-128:00000000000000000000000000000000",
	    "mode", 0600);
}

/* Set the archive's size and SHA-256 (and the node key) and write. */
static void
write_meta(json_t *m, const struct buf *ar, const char *key_sha)
{
	char hex[SHA256_HEX_LEN + 1], path[4500];
	char *text;

	sha256_hex(ar->p, ar->len, hex);
	json_object_set_new(m, "archive", json_pack("{s:I, s:s}", "size",
	    (json_int_t)ar->len, "sha256", hex));
	if (key_sha)
		json_object_set_new(m, "node_key", json_pack("{s:s, s:s}", "path",
		    "geth/nodekey", "sha256", key_sha));
	snprintf(path, sizeof path, "%s/" ID ".json", member_dir);
	if (!(text = json_dumps(m, JSON_INDENT(1))))
		die("json_dumps");
	put_file(path, text, strlen(text));
	free(text);
}

static void
write_archive(const struct buf *ar, int legacy)
{
	char path[4500];

	snprintf(path, sizeof path, "%s/" ID "%s", member_dir,
	    legacy ? ".tar.gz" : ".tar.zst");
	put_file(path, ar->p, ar->len);
}

/* ---- the harness ------------------------------------------------------ */

static void
cleanup(void)
{
	if (base[0]) {
		rm_rf(base);
		base[0] = '\0';
	}
	conf_free(&agent_conf_table, &cf);
}

static void
set(const char *name, const char *value)
{
	struct err e;

	if (conf_set(&agent_conf_table, &cf, name, value, "fuzz", &e) < 0) {
		fprintf(stderr, "fuzz_archive: %s\n", e.msg);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct err e;

	(void)argc;
	(void)argv;
	/* The agent logs every refusal; the fuzzer's output would drown. */
	log_set_level((enum log_level)(LOG_ERROR + 1));
	snprintf(base, sizeof base, "%s/qb-fuzz-archive-XXXXXX",
	    tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(base))
		die(base);
	snprintf(root, sizeof root, "%s/r", base);
	snprintf(data_dir, sizeof data_dir, "%s/data", root);
	snprintf(backup_dir, sizeof backup_dir, "%s/backups", root);
	snprintf(member_dir, sizeof member_dir, "%s/member1", backup_dir);
	snprintf(outside, sizeof outside, "%s/outside", root);
	memset(&cf, 0, sizeof cf);
	if (conf_init(&agent_conf_table, &cf, &e) < 0) {
		fprintf(stderr, "fuzz_archive: %s\n", e.msg);
		abort();
	}
	set("agent.member", "1");
	set("agent.data_dir", data_dir);
	set("agent.backup_dir", backup_dir);
	set("agent.node_key", "geth/nodekey");
	set("archive.lock_files", "");
	set("archive.exclude", "");
	atexit(cleanup);
	return 0;
}

/* The live tree (a node key, chain data), the store and a directory
 * outside both, made anew for each input. */
static void
make_tree(void)
{
	char path[4500];

	rm_rf(root);
	make_dir(root);
	make_dir(data_dir);
	snprintf(path, sizeof path, "%s/geth", data_dir);
	make_dir(path);
	snprintf(path, sizeof path, "%s/geth/nodekey", data_dir);
	put_file(path, NODE_KEY, strlen(NODE_KEY));
	snprintf(path, sizeof path, "%s/chaindata", data_dir);
	make_dir(path);
	snprintf(path, sizeof path, "%s/chaindata/000001.log", data_dir);
	put_file(path, "live chain data\n", 16);
	make_dir(backup_dir);
	make_dir(member_dir);
	make_dir(outside);
	snprintf(path, sizeof path, "%s/victim", outside);
	put_file(path, "outside\n", 8);
}

/* The backup the input makes, by mode (data[0] & 7), written into the
 * store: 1 when it is a legacy one. */
static int
put_backup(int mode, const uint8_t *p, size_t n, const char *key_sha,
    const char *other_sha)
{
	char path[4500];
	struct buf ar = { NULL, 0 }, tmp = { NULL, 0 };
	json_t *meta = NULL;
	int legacy = 0;

	switch (mode) {
	case 0:
		ar.p = malloc(n ? n : 1);
		memcpy(ar.p, p, n);
		ar.len = n;
		tmp = unzstd(p, n);
		meta = tmp.len ? derive_meta(tmp.p, tmp.len, 0) : fixed_meta();
		write_meta(meta, &ar, key_sha);
		break;
	case 1:
		ar.p = malloc(n ? n : 1);
		memcpy(ar.p, p, n);
		ar.len = n;
		legacy = 1;
		break;
	case 2:
	case 6:
	case 7:
		tmp = tar_fixed(p, n);
		ar = zstd_of(tmp.p, tmp.len);
		meta = derive_meta(tmp.p, tmp.len, mode == 7);
		if (mode == 6)
			json_object_set_new(meta, "bytes", json_integer(
			    json_integer_value(json_object_get(meta, "bytes")) / 2));
		write_meta(meta, &ar, mode == 6 ? other_sha : key_sha);
		break;
	case 3:
		tmp = tar_fixed(p, n);
		ar = gzip_of(tmp.p, tmp.len);
		legacy = 1;
		break;
	case 4:
	case 5: {
		size_t jl = n >= 2 ? ((size_t)p[0] << 8 | p[1]) : 0;
		const uint8_t *j = p + (n >= 2 ? 2 : n);
		size_t left = n - (size_t)(j - p);
		if (jl > left)
			jl = left;
		if (mode == 4) {
			ar.p = malloc(left - jl ? left - jl : 1);
			memcpy(ar.p, j + jl, left - jl);
			ar.len = left - jl;
		} else {
			tmp = tar_fixed(j + jl, left - jl);
			ar = zstd_of(tmp.p, tmp.len);
		}
		meta = json_loadb((const char *)j, jl, JSON_DECODE_ANY, NULL);
		if (json_is_object(meta)) {
			write_meta(meta, &ar, NULL);
		} else {
			snprintf(path, sizeof path, "%s/" ID ".json", member_dir);
			put_file(path, j, jl);
		}
		break;
	}
	}
	write_archive(&ar, legacy);
	free(ar.p);
	free(tmp.p);
	json_decref(meta);
	return legacy;
}

/* op_verify and op_unpack on the store's backup, and what must hold
 * after them whatever the input: nothing outside the data directory and
 * the store, the live tree whole or aside whole, no staging left. */
static void
run_and_check(int legacy, int in_place, int force, const char *live_before,
    const char *outside_before)
{
	char path[4500], list[8192], want[512];
	char *live_after, *outside_after;
	struct backup_info b;
	struct verify_result vr;
	struct unpack_opts u;
	struct unpack_result ur;
	struct err e;
	int rc;

	err_clear(&e);
	op_verify(&cf, legacy ? ID ".tar.gz" : ID, 0, NULL, &b, &vr, &e);
	memset(&u, 0, sizeof u);
	u.id = "latest";
	u.in_place = in_place;
	u.force = force;
	err_clear(&e);
	rc = op_unpack(&cf, &u, NULL, &ur, &e);

	/* Nothing outside the data directory and the store. */
	names(base, list, sizeof list);
	CHECK(strcmp(list, "r") == 0, "temporary directory holds %s", list);
	names(root, list, sizeof list);
	CHECK(strcmp(list, "backups,data,outside") == 0,
	    "ROOT holds %s (unpack rc %d: %s)", list, rc, e.msg);
	names(backup_dir, list, sizeof list);
	CHECK(strcmp(list, "member1") == 0, "backups/ holds %s", list);
	names(member_dir, list, sizeof list);
	snprintf(want, sizeof want, legacy ? ".lock," ID ".tar.gz" :
	    ".lock," ID ".json," ID ".tar.zst");
	/* .lock: the store lock, once unpack got that far. */
	CHECK(strcmp(list, want) == 0 || strcmp(list, want + 6) == 0,
	    "backups/member1 holds %s", list);
	outside_after = tree_sig(outside);
	CHECK(strcmp(outside_before, outside_after) == 0,
	    "outside/ changed:\n%s\nbecame\n%s", outside_before,
	    outside_after);
	if (!in_place) {
		/* The agent's directory holds its lock and, after an
		 * unpack, the previous tree; nothing an archive wrote. */
		snprintf(path, sizeof path, "%s/" DATADIR_AGENT, data_dir);
		names(path, list, sizeof list);
		CHECK(strcmp(list, "lock") == 0 ||
		    strcmp(list, "lock,previous") == 0 || list[0] == '\0',
		    "%s holds %s (unpack rc %d: %s)", DATADIR_AGENT, list,
		    rc, e.msg);
	}
	if (rc == 0 && !in_place) {
		/* The live tree went aside whole: an entry that escaped
		 * the staging directory into the data directory would
		 * have gone with it. */
		snprintf(path, sizeof path, "%s/" DATADIR_AGENT "/previous",
		    data_dir);
		live_after = tree_sig(path);
		CHECK(strcmp(live_before, live_after) == 0,
		    "the previous tree is not the live one:\n%s\nbecame\n%s",
		    live_before, live_after);
		free(live_after);
	}
	if (rc < 0 && !in_place) {
		/* A staged unpack that fails leaves the live tree as it
		 * was, and no staging directory behind. */
		live_after = tree_sig(data_dir);
		CHECK(strcmp(live_before, live_after) == 0,
		    "the live tree changed though unpack failed (%s):\n%s\n"
		    "became\n%s", e.msg, live_before, live_after);
		free(live_after);
		snprintf(path, sizeof path, "%s/" DATADIR_AGENT "/staging",
		    data_dir);
		CHECK(access(path, F_OK) < 0, "staging left behind (%s)",
		    e.msg);
	}
	free(outside_after);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char key_sha[SHA256_HEX_LEN + 1], other_sha[SHA256_HEX_LEN + 1];
	char *live_before, *outside_before;
	int mode, in_place, force, legacy;

	if (size < 1)
		return 0;
	mode = data[0] & 7;
	in_place = (data[0] >> 3) & 1;
	force = (data[0] >> 4) & 1;
	make_tree();
	sha256_hex(NODE_KEY, strlen(NODE_KEY), key_sha);
	sha256_hex("another node", 12, other_sha);
	legacy = put_backup(mode, data + 1, size - 1, key_sha, other_sha);
	live_before = tree_sig(data_dir);
	outside_before = tree_sig(outside);
	run_and_check(legacy, in_place, force, live_before, outside_before);
	free(live_before);
	free(outside_before);
	rm_rf(root);
	return 0;
}
