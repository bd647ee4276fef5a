/* Every example command marked in README.md and the man pages runs as
 * written, from the build tree, and ends with the exit status it promises.
 * Each document runs in a fresh folder where conf/ and examples/ are those of
 * the source tree, its commands in order (a later one may read what an
 * earlier one wrote). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "doc_examples.h"
#include "support.h"

/* The examples of the source file rel; fails the test on a bad marker. */
static long examples_of(const char *rel, struct doc_example **v)
{
	char *path = kvt_src(rel), *why = NULL;
	char *text = kvt_read(path);
	cr_assert(text, "%s: cannot read", path);
	size_t n = strlen(rel);
	int is_roff = n > 2 && rel[n - 2] == '.' && strchr("1357", rel[n - 1]);
	long count = doc_examples(text, is_roff, v, &why);
	cr_assert_geq(count, 0, "%s: %s", rel, why);
	free(text);
	free(path);
	return count;
}

static void link_source(const char *dir, const char *name)
{
	char *from = kvt_src(name), *to = kv_xasprintf("%s/%s", dir, name);
	cr_assert_eq(symlink(from, to), 0, "symlink %s", to);
	free(from);
	free(to);
}

static void save(const char *file, const char *text)
{
	if (strcmp(file, "/dev/null") == 0)
		return;
	FILE *f = fopen(file, "w");
	cr_assert(f, "%s: cannot write", file);
	fputs(text, f);
	fclose(f);
}

static void run_example(const char *rel, const struct doc_example *e)
{
	char *redirect, *why, *out = NULL, *err = NULL;
	if (e->status == DOC_NOT_RUN)
		return;
	char **words = doc_split(e->command, &redirect, &why);
	cr_assert(words, "%s:%d: %s", rel, e->line, why);
	cr_assert(strcmp(words[0], "kaieval") == 0 || strcmp(words[0], "./kaieval") == 0,
		  "%s:%d: '%s' does not run kaieval", rel, e->line, e->command);
	int rc = kvt_exec((const char *const *)words + 1, &out, &err);
	cr_expect_eq(rc, e->status, "%s:%d: `%s` exits %d, the document says %d; stderr:\n%s", rel,
		     e->line, e->command, rc, e->status, err);
	if (redirect)
		save(redirect, out);
	doc_words_free(words);
	free(redirect);
	free(out);
	free(err);
}

/* Runs the examples of rel; returns how many ran. */
static long run_document(const char *rel)
{
	struct doc_example *v;
	long n = examples_of(rel, &v), ran = 0;
	char *dir = kvt_tempdir();
	link_source(dir, "conf");
	link_source(dir, "examples");
	cr_assert_eq(chdir(dir), 0);
	for (long i = 0; i < n; i++) {
		run_example(rel, &v[i]);
		ran += v[i].status != DOC_NOT_RUN;
	}
	cr_assert_eq(chdir("/"), 0);
	kvt_rmtree(dir);
	free(dir);
	doc_examples_free(v, (size_t)n);
	return ran;
}

/* A command added to an EXAMPLES display without a marker would go untested. */
static void expect_all_marked(const char *rel)
{
	struct doc_example *v;
	long n = examples_of(rel, &v);
	char *path = kvt_src(rel), *page = kvt_read(path);
	long line = doc_unmarked(page, v, (size_t)n);
	cr_expect_eq(line, 0, "%s:%ld: an example command without a marker", rel, line);
	doc_examples_free(v, (size_t)n);
	free(page);
	free(path);
}

Test(docs, readme_examples_run)
{
	/* The record of `make example`, the publish table (as computed and at
	 * the published precision), the report, the what-if and the robustness
	 * of stage 2. */
	cr_expect_eq(run_document("README.md"), 6);
}

Test(docs, man_page_examples_run)
{
	char *path = kvt_src("doc");
	DIR *d = opendir(path);
	cr_assert(d, "%s: cannot list", path);
	long total = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n > 2 && e->d_name[n - 2] == '.' && strchr("1357", e->d_name[n - 1])) {
			char *rel = kv_xasprintf("doc/%s", e->d_name);
			total += run_document(rel);
			expect_all_marked(rel);
			free(rel);
		}
	}
	closedir(d);
	free(path);
	/* kaieval(1): 6, kaieval.conf(5): 1, kaieval-license(7): 1. */
	cr_expect_geq(total, 8, "only %ld marked examples in the man pages", total);
}

/* The extraction itself, on documents written here. */

/* doc's only example is command, at line, ending with status. */
static void expect_one(const char *doc, int is_roff, const char *command, int status, int line)
{
	struct doc_example *v;
	char *why = NULL;
	cr_assert_eq(doc_examples(doc, is_roff, &v, &why), 1, "%s", why);
	cr_expect_str_eq(v[0].command, command);
	cr_expect_eq(v[0].status, status);
	cr_expect_eq(v[0].line, line);
	doc_examples_free(v, 1);
}

Test(docs, roff_block_with_continuation)
{
	expect_one(".PP\n.\\\" example: exit 1\n.RS 4\n.EX\n"
		   "$ kaieval whatif conf/r\\-1.cfg \\e\n      \\-\\-set a.b=\\(aqc\\(aq\n.EE\n",
		   1, "kaieval whatif conf/r-1.cfg --set a.b='c'", 1, 5);
}

Test(docs, roff_quoted_in_text)
{
	expect_one(".\\\" example: exit 0\nholds a round\n.RB ( \"kaieval run x/round.cfg\" ):\n", 1,
		   "kaieval run x/round.cfg", 0, 3);
}

Test(docs, markdown_backticks)
{
	expect_one("text\n<!-- example: exit 2 -->\nFor example, `./kaieval diff r.json` fails.\n", 0,
		   "./kaieval diff r.json", 2, 3);
}

Test(docs, markdown_marker_command)
{
	expect_one("<!-- example: exit 0: kaieval run a.cfg -o r.json -->\ntext\n", 0,
		   "kaieval run a.cfg -o r.json", 0, 1);
}

Test(docs, marker_without_command_is_an_error)
{
	struct doc_example *v;
	char *why = NULL;
	cr_expect_eq(doc_examples("<!-- example: exit 0 -->\nno command here\n", 0, &v, &why), -1);
	cr_expect(why && strstr(why, "line 1"), "%s", why);
	free(why);
	cr_expect_eq(doc_examples(".\\\" example: exit soon\n$ kaieval run a.cfg\n", 1, &v, &why), -1);
	cr_expect(why && strstr(why, "exit N"), "%s", why);
	free(why);
}

Test(docs, split_words_and_redirect)
{
	char *redirect, *why;
	char **w = doc_split("kaieval  run a.cfg -o b.json >/dev/null", &redirect, &why);
	cr_assert(w, "%s", why);
	cr_expect_str_eq(w[0], "kaieval");
	cr_expect_str_eq(w[3], "-o");
	cr_expect_str_eq(w[4], "b.json");
	cr_expect_null(w[5]);
	cr_expect_str_eq(redirect, "/dev/null");
	doc_words_free(w);
	free(redirect);
}

Test(docs, split_refuses_shell_syntax)
{
	static const char *const bad[] = {"kaieval run a.cfg; rm x", "kaieval run $HOME/a.cfg",
					  "kaieval run a.cfg | cat", "kaieval run a.cfg > x y",
					  "kaieval run 'a b.cfg'"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *redirect, *why = NULL;
		cr_expect_null(doc_split(bad[i], &redirect, &why), "%s was split", bad[i]);
		cr_expect_not_null(why);
		free(why);
	}
}

Test(docs, not_run_marker_and_unmarked_commands)
{
	const char *page = ".SH EXAMPLES\n.nf\n.\\\" example: not run: needs a model\n"
			   "kaieval fingerprint models/m \\-o m.json\n"
			   "$ KAIEVAL_PLUGIN_PATH=$PWD kaieval plugins ratio\n.fi\n";
	struct doc_example *v;
	char *why;
	cr_assert_eq(doc_examples(page, 1, &v, &why), 1, "%s", why);
	cr_expect_eq(v[0].status, DOC_NOT_RUN);
	cr_expect_str_eq(v[0].command, "kaieval fingerprint models/m -o m.json");
	cr_expect_eq(doc_unmarked(page, v, 1), 5, "the plugins command has no marker");
	doc_examples_free(v, 1);
}

/* The line of a table that starts with the team id, as a copy. */
static char *team_line(const char *out, const char *team)
{
	char *key = kv_xasprintf("\n%s ", team);
	const char *at = strstr(out, key);
	free(key);
	cr_assert(at, "no line for %s in:\n%s", team, out);
	at++;
	return kv_xasprintf("%.*s", (int)strcspn(at, "\n"), at);
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* The README's what-if asks who would have gone without the gate: Naver,
 * eliminated on the gate although 4th on points, advances instead, and NC
 * AI, the lowest total, goes either way. */
Test(docs, readme_whatif_answers_its_question)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1.cfg"), *out = NULL, *err = NULL;
	const char *args[] = {"whatif", cfg, "--set", "criteria.independence.kind=info", NULL};
	cr_assert_eq(kvt_exec(args, &out, &err), 0, "%s", err);
	char *naver = team_line(out, "naver"), *nc = team_line(out, "nc");
	const char *gate = strstr(naver, "eliminated gate:independence");
	cr_expect(gate && strstr(gate, "advance") && strstr(naver, "<- changed"), "%s", naver);
	cr_expect_eq(count(nc, "eliminated lowest_total"), 2, "%s", nc);
	free(naver);
	free(nc);
	free(out);
	free(err);
	free(cfg);
}
