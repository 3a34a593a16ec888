/* Unit tests of agent/age: interoperability with the `age` and
 * `age-keygen` tools both ways, and the files crafted by hand
 * (age_fixture.h) meaning to age what they mean to the module; missing
 * tools fail these tests, they are never skipped.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
#include "age_fixture.h"
#include "age.h"
#include "err.h"

/* ---- interoperability with the age tools ---------------------------- */

/* name on PATH; its absence fails the test. */
static const char *
tool(const char *name)
{
	static char found[4][PATH_MAX];
	static int next;
	const char *path = getenv("PATH");
	char *b = found[next++ % 4];

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		if (n > 0 && snprintf(b, PATH_MAX, "%.*s/%s", (int)n, path,
		    name) < PATH_MAX && access(b, X_OK) == 0)
			return b;
		path += n + (colon ? 1 : 0);
	}
	ck_abort_msg("%s is not on PATH: the interoperability tests need "
	    "Debian's age package (scripts/install-deps.sh installs it)", name);
	return NULL;
}

/* Run argv (stdin from /dev/null, stdout to out if not NULL); its exit
 * status, its stderr in errtext. */
static int
run(const char *const argv[], const char *out, char *errtext, size_t size)
{
	char errpath[PATH_MAX];
	pid_t pid;
	int st;
	FILE *f;
	size_t k;

	snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int er = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || er < 0 || dup2(in, 0) < 0 || dup2(er, 2) < 0)
			_exit(126);
		if (out) {
			int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (o < 0 || dup2(o, 1) < 0)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errtext[0] = '\0';
	if ((f = fopen(errpath, "r"))) {
		k = fread(errtext, 1, size - 1, f);
		errtext[k] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const size_t interop_sizes[] = { 0, 1, 65536, 65537, 300000 };

START_TEST(test_interop_ours_to_age)
{
	struct age_recipient two[2] = { rA, rB };
	char text[256], errtext[4096];
	const char *age = tool("age");

	identity_text(&idA, text, sizeof text);
	put_text(tp("a.txt"), text, 0600);
	identity_text(&idB, text, sizeof text);
	put_text(tp("b.txt"), text, 0600);
	for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
	    i++) {
		size_t len = interop_sizes[i], got;
		uint8_t *p = payload(len, (unsigned)i + 100), *back;
		struct sink s;

		sink_init(&s);
		enc_all(two, 2, p, len, odd_pieces, &s);
		put_file(tp("f.age"), s.data, s.len, 0600);
		for (int k = 0; k < 2; k++) {
			/* stdout: age -o makes no file for no output */
			const char *argv[] = { age, "-d", "-i",
				tp(k ? "b.txt" : "a.txt"), tp("f.age"), NULL };

			ck_assert_msg(run(argv, tp("out"), errtext,
			    sizeof errtext) == 0, "age -d of %zu bytes: %s", len,
			    errtext);
			back = (uint8_t *)slurp(tp("out"), &got);
			ck_assert_uint_eq(got, len);
			ck_assert(len == 0 || memcmp(back, p, len) == 0);
			free(back);
		}
		sink_free(&s);
		free(p);
	}
}
END_TEST

/* Read the recipient age-keygen -y prints for an identity file. */
static void
keygen_y(const char *keyfile, char out[AGE_RECIPIENT_STR_LEN + 1])
{
	const char *argv[] = { tool("age-keygen"), "-y", keyfile, NULL };
	char errtext[4096];
	uint8_t *b;
	size_t n;

	ck_assert_msg(run(argv, tp("pub.txt"), errtext, sizeof errtext) == 0,
	    "age-keygen -y: %s", errtext);
	b = (uint8_t *)slurp(tp("pub.txt"), &n);
	ck_assert_uint_eq(n, AGE_RECIPIENT_STR_LEN + 1);
	ck_assert_int_eq(b[AGE_RECIPIENT_STR_LEN], '\n');
	memcpy(out, b, AGE_RECIPIENT_STR_LEN);
	out[AGE_RECIPIENT_STR_LEN] = '\0';
	free(b);
}

START_TEST(test_interop_age_to_ours)
{
	const char *age = tool("age"), *keygen = tool("age-keygen");
	char errtext[4096], r1[AGE_RECIPIENT_STR_LEN + 1];
	char r2[AGE_RECIPIENT_STR_LEN + 1], mine[AGE_RECIPIENT_STR_LEN + 1];
	char text[512];
	struct age_identity *k1, *k2;
	struct age_recipient r, *rs;
	size_t n1, n2, nr;
	struct err e;

	{
		const char *a1[] = { keygen, "-o", tp("k1.txt"), NULL };
		const char *a2[] = { keygen, "-o", tp("k2.txt"), NULL };

		ck_assert_msg(run(a1, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
		ck_assert_msg(run(a2, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
	}
	/* age-keygen's files load as they are (it makes them 0600) */
	ck_assert_msg(age_identity_file_load(tp("k1.txt"), &k1, &n1, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(age_identity_file_load(tp("k2.txt"), &k2, &n2, &e) == 0,
	    "%s", e.msg);
	keygen_y(tp("k1.txt"), r1);
	keygen_y(tp("k2.txt"), r2);
	age_recipient_of(&k1[0], &r);
	age_recipient_format(&r, mine);
	ck_assert_str_eq(mine, r1);
	/* a recipients file both read */
	snprintf(text, sizeof text, "# two keys\n%s\n\n%s\n", r1, r2);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_msg(age_recipients_file_load(tp("rcpt.txt"), &rs, &nr, &e) ==
	    0, "%s", e.msg);
	ck_assert_uint_eq(nr, 2);
	free(rs);
	for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
	    i++) {
		size_t len = interop_sizes[i], flen;
		uint8_t *p = payload(len, (unsigned)i + 200), *f;
		const char *one[] = { age, "-e", "-r", r1, "-o", tp("f.age"),
			tp("plain"), NULL };
		const char *both[] = { age, "-e", "-R", tp("rcpt.txt"), "-o",
			tp("g.age"), tp("plain"), NULL };

		put_file(tp("plain"), p, len, 0600);
		ck_assert_msg(run(one, NULL, errtext, sizeof errtext) == 0,
		    "age -e: %s", errtext);
		ck_assert_msg(run(both, NULL, errtext, sizeof errtext) == 0,
		    "age -e -R: %s", errtext);
		f = (uint8_t *)slurp(tp("f.age"), &flen);
		assert_opens(f, flen, &k1[0], p, len);
		assert_fails(f, flen, &k2[0], AGE_ERR_NO_IDENTITY, NULL, 0);
		free(f);
		f = (uint8_t *)slurp(tp("g.age"), &flen);
		assert_opens(f, flen, &k1[0], p, len);
		assert_opens(f, flen, &k2[0], p, len);
		free(f);
		free(p);
	}
	/* armored output is named as such */
	{
		const char *arm[] = { age, "-e", "-a", "-r", r1, "-o",
			tp("a.age"), tp("plain"), NULL };
		size_t flen;
		uint8_t *f;

		ck_assert_int_eq(run(arm, NULL, errtext, sizeof errtext), 0);
		f = (uint8_t *)slurp(tp("a.age"), &flen);
		assert_fails(f, flen, &k1[0], ERR_VERIFY, "ASCII-armored", 0);
		free(f);
	}
	age_identities_free(k1, n1);
	age_identities_free(k2, n2);
}
END_TEST

/* Our keygen's identity file works with the age tools. */
START_TEST(test_interop_keygen)
{
	const char *age = tool("age");
	char rs[AGE_RECIPIENT_STR_LEN + 1], y[AGE_RECIPIENT_STR_LEN + 1];
	char text[256], errtext[4096];
	struct age_identity id;
	struct err e;
	uint8_t *p = payload(65537, 300), *back;
	size_t got;

	ck_assert_int_eq(age_keygen(&id, rs, &e), 0);
	ck_assert_int_eq(age_identity_file_text(&id, time(NULL), text,
	    sizeof text, &e), 0);
	put_text(tp("mine.txt"), text, 0600);
	keygen_y(tp("mine.txt"), y);
	ck_assert_str_eq(y, rs);
	put_file(tp("plain"), p, 65537, 0600);
	{
		const char *enc[] = { age, "-e", "-r", rs, "-o", tp("f.age"),
			tp("plain"), NULL };
		const char *dec[] = { age, "-d", "-i", tp("mine.txt"), "-o",
			tp("out"), tp("f.age"), NULL };

		ck_assert_msg(run(enc, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
		ck_assert_msg(run(dec, NULL, errtext, sizeof errtext) == 0,
		    "age -d -i (our identity file): %s", errtext);
	}
	back = (uint8_t *)slurp(tp("out"), &got);
	ck_assert_uint_eq(got, 65537);
	ck_assert_int_eq(memcmp(back, p, got), 0);
	free(back);
	free(p);
	age_identity_wipe(&id);
}
END_TEST

/* The files this suite crafts mean to age what they mean here: the
 * reference implementation also skips the unknown stanzas and refuses an
 * empty final chunk after data, a low-order share and a non-canonical
 * share. */
START_TEST(test_interop_crafted)
{
	const char *age = tool("age");
	static const uint8_t zero[32];
	struct tchunk bad[2] = { { CHUNK, 0, 0 }, { 0, 1, 1 } };
	uint8_t *p = payload(CHUNK, 400), *f, fk[16];
	char text[256], errtext[4096], st[256];
	const char *argv[] = { age, "-d", "-i", tp("a.txt"), "-o", tp("out"),
		tp("f.age"), NULL };
	size_t flen;

	identity_text(&idA, text, sizeof text);
	put_text(tp("a.txt"), text, 0600);
	/* control: the unknown stanzas of test_unknown_stanza */
	{
		char un[1024];

		randombytes_buf(fk, sizeof fk);
		t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
		snprintf(un, sizeof un, "-> example.com/enigma arg1 ?!+=\n"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
		    "\n%s", st);
		f = t_file_stanzas(fk, un, "known", &flen);
		put_file(tp("f.age"), f, flen, 0600);
		free(f);
		ck_assert_msg(run(argv, NULL, errtext, sizeof errtext) == 0,
		    "age -d refused the unknown stanza: %s", errtext);
	}
	f = t_file_to_a(p, bad, 2, &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, low_order[0], zero);
	f = t_file_stanzas(fk, st, "forged", &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	st[52] = b64_shift(st[52], 1);
	f = t_file_stanzas(fk, st, "x", &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	free(p);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
age_interop_suite(void)
{
	Suite *s = suite_create("age_interop");
	TCase *tc;

	tc = tcase_create("interop");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interop_ours_to_age);
	tcase_add_test(tc, test_interop_age_to_ours);
	tcase_add_test(tc, test_interop_keygen);
	tcase_add_test(tc, test_interop_crafted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(age_interop_suite(), "age_interop");
}
