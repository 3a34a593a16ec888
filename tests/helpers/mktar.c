/* mktar: build archives for tests, hostile ones included, with metadata
 * that agrees with them, so that a test proves the extraction's own checks
 * refuse what the metadata would let through.
 *
 *   mktar --out FILE [--gzip] [--meta FILE.json] [--bytes N] < SPEC
 *
 * FILE gets a pax tar, in zstd with frame checksums (default) or gzip.
 * --meta writes metadata as the agent does (entries with XXH3-128 hashes,
 * archive size and SHA-256); --bytes overrides its total content size.
 * SPEC has one entry per line, fields separated by single spaces:
 *   file PATH MODE TEXT...     content is TEXT and a newline
 *   zeros PATH MODE SIZE       SIZE zero bytes (a tar bomb compresses well)
 *   dir PATH MODE
 *   symlink PATH TARGET
 *   hardlink PATH TARGET
 *   fifo PATH | chardev PATH | blockdev PATH
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "hashes.h"

struct sink {
	FILE *f;
	ZSTD_CCtx *z;
	struct sha256 *sha;
	unsigned long long size;
	char out[1 << 16];
};

static void
emit(struct sink *s, const void *buf, size_t len)
{
	sha256_update(s->sha, buf, len);
	fwrite(buf, 1, len, s->f);
	s->size += len;
}

static int
zpush(struct sink *s, const void *buf, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	for (;;) {
		ZSTD_outBuffer out = { s->out, sizeof s->out, 0 };
		size_t r = ZSTD_compressStream2(s->z, &out, &in, mode);
		if (ZSTD_isError(r))
			return -1;
		emit(s, s->out, out.pos);
		if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size)
			return 0;
	}
}

static la_ssize_t
write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	(void)a;
	if (s->z) {
		if (zpush(s, buf, len, ZSTD_e_continue) < 0)
			return -1;
	} else {
		emit(s, buf, len);
	}
	return (la_ssize_t)len;
}

/* The command line, as parsed. */
struct options {
	const char *out, *meta_path;
	long long bytes_override;   /* --bytes, or -1 */
	int gzip;
};

/* What the spec's entries add up to, for the metadata. */
struct totals {
	long long bytes, files;
	json_t *entries;
};

/* The options into o. -1 to go on, or the exit code. */
static int
parse_options(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->bytes_override = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			o->out = argv[++i];
		else if (strcmp(argv[i], "--meta") == 0 && i + 1 < argc)
			o->meta_path = argv[++i];
		else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			o->bytes_override = atoll(argv[++i]);
		else if (strcmp(argv[i], "--gzip") == 0)
			o->gzip = 1;
		else {
			fprintf(stderr, "usage: mktar --out FILE [--gzip] "
			    "[--meta FILE] [--bytes N] < SPEC\n");
			return 2;
		}
	}
	if (!o->out) {
		fprintf(stderr, "mktar: --out is required\n");
		return 2;
	}
	return -1;
}

/* A pax writer into out through s: gzip by libarchive, or zstd with frame
 * checksums by write_cb(). NULL, with a message, when it cannot start. */
static struct archive *
open_archive(const char *out, int gzip, struct sink *s)
{
	struct archive *a;

	memset(s, 0, sizeof *s);
	if (!(s->f = fopen(out, "wb"))) {
		perror(out);
		return NULL;
	}
	s->sha = sha256_new();
	a = archive_write_new();
	archive_write_set_format_pax(a);
	archive_write_set_bytes_per_block(a, 0);
	if (gzip) {
		archive_write_add_filter_gzip(a);
	} else {
		s->z = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(s->z, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(s->z, ZSTD_c_checksumFlag, 1);
	}
	if (archive_write_open2(a, s, NULL, write_cb, NULL, NULL) !=
	    ARCHIVE_OK) {
		fprintf(stderr, "mktar: %s\n", archive_error_string(a));
		return NULL;
	}
	return a;
}

/* A "file" or "zeros" line's regular file, rest being "MODE TEXT..." or
 * "MODE SIZE": its header and content, hashed by fh into je. Its size. */
static long long
add_file(struct archive *a, struct archive_entry *ae, const char *kind,
    char *rest, struct filehash *fh, json_t *je)
{
	char hash[FILEHASH_STR_LEN + 1];
	char *mode = strtok_r(NULL, " ", &rest);
	char *text = rest ? rest : (char *)"";
	long long size = strcmp(kind, "file") == 0 ?
	    (long long)strlen(text) + 1 : atoll(text);

	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, (mode_t)strtol(mode, NULL, 8));
	archive_entry_set_size(ae, size);
	archive_write_header(a, ae);
	if (strcmp(kind, "file") == 0) {
		char buf[8192];
		snprintf(buf, sizeof buf, "%s\n", text);
		filehash_update(fh, buf, strlen(buf));
		archive_write_data(a, buf, strlen(buf));
	} else {
		static char zero[1 << 16];
		for (long long left = size; left > 0; ) {
			size_t n = left > (long long)sizeof zero ?
			    sizeof zero : (size_t)left;
			filehash_update(fh, zero, n);
			archive_write_data(a, zero, n);
			left -= (long long)n;
		}
	}
	filehash_final(fh, hash);
	json_object_set_new(je, "type", json_string("file"));
	json_object_set_new(je, "size", json_integer(size));
	json_object_set_new(je, "hash", json_string(hash));
	return size;
}

/* One spec line: its entry in the archive and in t. 0, or the exit code
 * for a line that is not one (blank lines and # comments are skipped). */
static int
add_entry(struct archive *a, struct archive_entry *ae, char *line,
    struct totals *t)
{
	char *kind, *path, *rest, *save = NULL;
	json_t *je;
	struct filehash *fh = filehash_new();

	line[strcspn(line, "\n")] = '\0';
	if (!line[0] || line[0] == '#')
		return 0;
	kind = strtok_r(line, " ", &save);
	path = strtok_r(NULL, " ", &save);
	rest = save;
	if (!kind || !path) {
		fprintf(stderr, "mktar: bad spec line\n");
		return 2;
	}
	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, path);
	archive_entry_set_mtime(ae, 1700000000, 0);
	archive_entry_set_uid(ae, getuid());
	archive_entry_set_gid(ae, getgid());
	je = json_pack("{s:s}", "path", path);
	t->files++;
	if (strcmp(kind, "file") == 0 || strcmp(kind, "zeros") == 0) {
		t->bytes += add_file(a, ae, kind, rest, fh, je);
	} else if (strcmp(kind, "dir") == 0) {
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, (mode_t)strtol(rest, NULL, 8));
		archive_write_header(a, ae);
		json_object_set_new(je, "type", json_string("dir"));
	} else if (strcmp(kind, "symlink") == 0) {
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_perm(ae, 0777);
		archive_entry_copy_symlink(ae, rest);
		archive_write_header(a, ae);
		json_object_set_new(je, "type", json_string("symlink"));
		json_object_set_new(je, "target", json_string(rest));
	} else if (strcmp(kind, "hardlink") == 0) {
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_copy_hardlink(ae, rest);
		archive_entry_set_size(ae, 0);
		archive_write_header(a, ae);
		json_object_set_new(je, "type", json_string("hardlink"));
		json_object_set_new(je, "target", json_string(rest));
	} else if (strcmp(kind, "fifo") == 0 || strcmp(kind, "chardev") == 0 ||
	    strcmp(kind, "blockdev") == 0) {
		archive_entry_set_filetype(ae, kind[0] == 'f' ? AE_IFIFO :
		    kind[0] == 'c' ? AE_IFCHR : AE_IFBLK);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_rdev(ae, 0x0103);
		archive_write_header(a, ae);
		json_object_set_new(je, "type", json_string("special"));
	} else {
		fprintf(stderr, "mktar: unknown kind '%s'\n", kind);
		return 2;
	}
	filehash_free(fh);
	json_object_set_new(je, "mode", json_integer(0644));
	json_array_append_new(t->entries, je);
	return 0;
}

/* --meta: the metadata as the agent writes it, for the archive s wrote
 * (its size and SHA-256) and the entries in t. 0, or the exit code. */
static int
write_meta(const struct options *o, struct sink *s, struct totals *t)
{
	char hex[SHA256_HEX_LEN + 1];
	json_t *m;

	if (!o->meta_path) {
		json_decref(t->entries);
		return 0;
	}
	sha256_final_hex(s->sha, hex);
	m = json_pack("{s:i, s:s, s:{s:I, s:s}, s:I, s:I, s:s, s:n, s:n, "
	    "s:o}", "format", 1, "id", "crafted",
	    "archive", "size", (json_int_t)s->size, "sha256", hex,
	    "bytes", (json_int_t)(o->bytes_override >= 0 ? o->bytes_override :
	    t->bytes), "files", (json_int_t)t->files, "file_hash",
	    FILE_HASH_ALGO, "node", "node_key", "entries", t->entries);
	if (!m || json_dump_file(m, o->meta_path, JSON_INDENT(2)) < 0) {
		fprintf(stderr, "mktar: cannot write %s\n", o->meta_path);
		return 1;
	}
	json_decref(m);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct totals t = { 0, 0, json_array() };
	char line[8192];
	struct sink s;
	struct archive *a;
	struct archive_entry *ae;
	int rc;

	if ((rc = parse_options(argc, argv, &o)) >= 0)
		return rc;
	if (!(a = open_archive(o.out, o.gzip, &s)))
		return 1;
	ae = archive_entry_new();
	while (fgets(line, sizeof line, stdin))
		if ((rc = add_entry(a, ae, line, &t)) != 0)
			return rc;
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(ae);
	if (s.z) {
		zpush(&s, NULL, 0, ZSTD_e_end);
		ZSTD_freeCCtx(s.z);
	}
	if (fclose(s.f) != 0) {
		perror(o.out);
		return 1;
	}
	if ((rc = write_meta(&o, &s, &t)) != 0)
		return rc;
	sha256_free(s.sha);
	return 0;
}
