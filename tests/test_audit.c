/* Audit and replay: archive -> verify, tampering detected, explain, diff,
 * whatif.  Expected decisions are those derived by hand in
 * examples/2026-01-stage1-table/README.md. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "record.h"
#include "support.h"

extern const struct kv_plugin kaieval_plugin_table;

static char *dir;
static char *example;

static void setup(void)
{
	dir = kvt_tempdir();
	example = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
	free(example);
}

TestSuite(audit, .init = setup, .fini = teardown);
TestSuite(record, .init = setup, .fini = teardown);

static char *archive_example(const char *name)
{
	char *out = kv_xasprintf("%s/%s", dir, name);
	const char *args[] = {"archive", example, "-o", out, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	free(err);
	return out;
}

static int verify(const char *archive, char **out)
{
	const char *args[] = {"verify", archive, NULL};
	return kvt_exec(args, out, NULL);
}

static void expect_same_file(const char *a, const char *b, const char *rel)
{
	char *pa = kv_xasprintf("%s/%s", a, rel), *pb = kv_xasprintf("%s/%s", b, rel);
	char *ta = kvt_read(pa), *tb = kvt_read(pb);
	cr_assert(ta && tb, "%s missing", rel);
	cr_expect_str_eq(ta, tb, "%s differs between two archives", rel);
	free(ta); free(tb); free(pa); free(pb);
}

Test(audit, archive_then_verify_passes)
{
	char *arc = archive_example("a");
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 0, "%s", out);
	cr_expect(strstr(out, "verified: the rerun gives the archived record byte for byte") != NULL, "%s", out);
	free(out);
	free(arc);
}

Test(audit, archiving_twice_gives_identical_bytes)
{
	char *a = archive_example("a"), *b = archive_example("b");
	const char *files[] = {"manifest.json", "result.json", "config/2026-01-stage1-table.cfg",
			       "data/experts.csv", "data/independence.csv"};
	for (size_t i = 0; i < 5; i++)
		expect_same_file(a, b, files[i]);
	free(a);
	free(b);
}

Test(audit, archive_refuses_an_existing_folder)
{
	char *arc = archive_example("a");
	const char *args[] = {"archive", example, "-o", arc, NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 2);
	free(arc);
}

Test(audit, flipped_input_byte_fails_naming_the_file)
{
	char *arc = archive_example("a");
	char *path = kv_xasprintf("%s/data/users.csv", arc);
	FILE *f = fopen(path, "r+b");
	cr_assert(f);
	fseek(f, -3, SEEK_END); /* inside nc's normalized "0.64" */
	int c = fgetc(f);
	fseek(f, -3, SEEK_END);
	fputc(c == '6' ? '5' : '6', f);
	fclose(f);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "data/users.csv: SHA-256 differs from the manifest") != NULL, "%s", out);
	/* nothing of a changed archive is rerun: no list of what moved */
	cr_expect(strstr(out, "nothing in it was loaded or run") != NULL, "%s", out);
	cr_expect(strstr(out, "teams[nc].criteria.users.points") == NULL, "%s", out);
	free(out);
	free(path);
	free(arc);
}

/* A FIFO in an archive's place of a data file or of its record: verify
 * never waits on it (the test's timeout would end a hang). */
Test(audit, a_fifo_in_the_archive_is_a_change_not_a_hang, .timeout = 30)
{
	char *arc = archive_example("a");
	char *data = kv_xasprintf("%s/data/users.csv", arc), *record = kv_xasprintf("%s/result.json", arc);
	cr_assert_eq(unlink(data), 0);
	cr_assert_eq(mkfifo(data, 0644), 0);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "data/users.csv") != NULL, "%s", out);
	free(out);
	cr_assert_eq(unlink(record), 0);
	cr_assert_eq(mkfifo(record, 0644), 0);
	const char *explain[] = {"explain", record, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(explain, NULL, &err), 2, "%s", err);
	cr_expect(strstr(err, "result.json: not a regular file") != NULL, "%s", err);
	free(err);
	free(record);
	free(data);
	free(arc);
}

Test(audit, changed_param_fails_naming_the_config_without_a_rerun)
{
	/* Score the expert criterion from the users file instead: every team's
	 * expert points would move (lg from 0.88 x 35 = 30.8 to 0.956 x 35 =
	 * 33.46), but a changed config is not rerun, its plugins not loaded. */
	char *arc = archive_example("a");
	char *cfg = kv_xasprintf("%s/config/2026-01-stage1-table.cfg", arc);
	char *text = kvt_read(cfg);
	char *at = strstr(text, "file = \"experts.csv\"");
	cr_assert(at);
	char *edited = kv_xasprintf("%.*sfile = \"users.csv\"%s", (int)(at - text), text, at + strlen("file = \"experts.csv\""));
	FILE *f = fopen(cfg, "wb");
	fputs(edited, f);
	fclose(f);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "config/2026-01-stage1-table.cfg: SHA-256 differs") != NULL, "%s", out);
	cr_expect(strstr(out, "nothing in it was loaded or run") != NULL, "%s", out);
	cr_expect(strstr(out, "teams[lg].criteria.experts.points") == NULL, "%s", out);
	free(out);
	free(edited);
	free(text);
	free(cfg);
	free(arc);
}

Test(audit, another_plugin_version_with_the_same_result_is_a_warning)
{
	char *arc = archive_example("a");
	struct kv_plugin newer = kaieval_plugin_table;
	newer.version = "1.9.9";
	kv_register_builtin(&newer);
	char *report = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&report, &len);
	int rc = kv_verify(arc, out);
	fclose(out);
	cr_expect_eq(rc, 0, "%s", report);
	char *want = kv_xasprintf("warning: plugin table (criterion nia): version %s in the archive, 1.9.9 installed",
				  kaieval_plugin_table.version);
	cr_expect(strstr(report, want) != NULL, "%s", report);
	free(want);
	free(report);
	free(arc);
}

Test(audit, explain_names_the_gate_finding)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc);
	const char *args[] = {"explain", rec, "naver", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "verdict: FAIL") != NULL, "%s", out);
	cr_expect(strstr(out, "vision encoder taken from a third-party model (frozen)") != NULL, "%s", out);
	cr_expect(strstr(out, "failed the gate 'independence'") != NULL, "%s", out);
	cr_expect(strstr(out, "normalized: 0.8 x 35 points = 28") != NULL, "%s", out);
	cr_expect(strstr(out, "lg —") == NULL, "only the asked team");
	free(out);
	free(rec);
	free(arc);
}

/* A record may come from anyone: a string in it that would command the
 * terminal (here: clear the screen) is shown as text. */
Test(audit, explain_shows_control_characters_as_text)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc);
	struct kv_buf text = {0};
	cr_assert_eq(kv_read_file(rec, &text), 0);
	char *at = strstr(text.data, "vision encoder taken");
	cr_assert(at != NULL);
	FILE *f = fopen(rec, "w");
	cr_assert(f != NULL);
	fprintf(f, "%.*s\\u001b[2J%s", (int)(at - text.data), text.data, at);
	fclose(f);
	const char *args[] = {"explain", rec, "naver", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "note: \\x1B[2Jvision encoder taken") != NULL, "%s", out);
	cr_expect(strchr(out, '\x1b') == NULL, "%s", out);
	free(out);
	kv_buf_free(&text);
	free(rec);
	free(arc);
}

Test(audit, explain_unknown_team)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc);
	const char *args[] = {"explain", rec, "nobody", NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 2);
	free(rec);
	free(arc);
}

Test(audit, diff_of_identical_and_of_changed_records)
{
	char *a = archive_example("a");
	char *ra = kv_xasprintf("%s/result.json", a);
	const char *same[] = {"diff", ra, ra, NULL};
	char *out = NULL;
	cr_expect_eq(kvt_exec(same, &out, NULL), 0);
	cr_expect(strstr(out, "no differences") != NULL);
	free(out);
	/* A corrected rerun in which nc's user score is higher: 0.64 -> 0.99, so
	 * nc's total becomes 66.2 + 0.35 x 25 = 74.95: still last of the ranked. */
	kvt_write(dir, "fixed/data/users.csv", "team,value,normalized\nlg,23.9,0.956\nskt,22.5,0.90\n"
						"upstage,21.5,0.86\nnaver,20.0,0.80\nnc,16.0,0.99\n");
	char *text = kvt_read(example);
	const char *examples_dir = "../../examples/2026-01-stage1-table";
	char *at = strstr(text, examples_dir);
	cr_assert(at);
	char *cfg = kv_xasprintf("%.*sdata%s", (int)(at - text), text, at + strlen(examples_dir));
	char *rel[] = {"independence.csv", "nia.csv", "global.csv", "target.csv", "experts.csv"};
	for (size_t i = 0; i < 5; i++) {
		char *src = kv_xasprintf("%s/examples/2026-01-stage1-table/%s", kvt_srcdir(), rel[i]);
		char *dst = kv_xasprintf("fixed/data/%s", rel[i]);
		char *body = kvt_read(src);
		kvt_write(dir, dst, body);
		free(body); free(src); free(dst);
	}
	kvt_write(dir, "fixed/r.cfg", cfg);
	char *fixed_cfg = kv_xasprintf("%s/fixed/r.cfg", dir), *rb = kv_xasprintf("%s/fixed/out.json", dir);
	const char *run[] = {"run", fixed_cfg, "-o", rb, NULL};
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	const char *changed[] = {"diff", ra, rb, NULL};
	cr_expect_eq(kvt_exec(changed, &out, NULL), 1);
	cr_expect(strstr(out, "teams[nc].total: 66.2 -> 74.95") != NULL, "%s", out);
	cr_expect(strstr(out, "decisions that changed") == NULL, "no decision changed: %s", out);
	free(out);
	free(fixed_cfg); free(rb); free(cfg); free(text); free(ra); free(a);
}

Test(audit, whatif_eliminate_two)
{
	/* Ranked without naver: lg 90.2, skt 85.9, upstage 82.7, nc 66.2; eliminating
	 * the two lowest removes upstage and nc. */
	const char *args[] = {"whatif", example, "--set", "selection.eliminate_lowest=2", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "upstage") != NULL);
	const char *line = strstr(out, "\nupstage");
	cr_assert(line, "%s", out);
	cr_expect(strstr(line, "3   advance") && strstr(line, "eliminated lowest_total") && strstr(line, "<- changed"),
		  "%s", out);
	free(out);
}

Test(audit, whatif_without_the_gate)
{
	/* The gate as info: naver (78.0) ranks 4th ahead of nc (66.2), so under the
	 * one-team rule nc alone is eliminated and naver advances. */
	const char *args[] = {"whatif", example, "--set", "criteria.independence.kind=info", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	const char *naver = strstr(out, "\nnaver");
	cr_assert(naver, "%s", out);
	cr_expect(strstr(naver, "4   advance") != NULL, "%s", out);
	const char *nc = strstr(out, "\nnc ");
	cr_expect(nc && strstr(nc, "5   eliminated lowest_total") != NULL, "%s", out);
	free(out);
}

Test(audit, whatif_bad_key_exits_2)
{
	const char *args[] = {"whatif", example, "--set", "criteria.nosuch.points=3", NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "no such place in the config") != NULL, "%s", err);
	free(err);
}

Test(audit, verify_of_a_missing_folder_exits_2)
{
	char *missing = kv_xasprintf("%s/none", dir);
	cr_expect_eq(verify(missing, NULL), 2);
	free(missing);
}

/* A folder name with a quote, a space and a newline, and shell syntax that
 * would create INJECTED in the working folder (the test's folder: kaieval
 * inherits it) if the name ever reached a shell. */
static char *awkward_name(void)
{
	cr_assert_eq(chdir(dir), 0);
	return kv_xasprintf("%s/it's a\nfolder';touch INJECTED;'", dir);
}

Test(audit, archive_into_an_awkward_folder_name)
{
	char *arc = awkward_name();
	const char *args[] = {"archive", example, "-o", arc, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	char *rec = kv_xasprintf("%s/result.json", arc);
	cr_expect(kvt_exists(rec), "no record in the archive");
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 0, "%s", out);
	char *injected = kv_xasprintf("%s/INJECTED", dir);
	cr_expect(!kvt_exists(injected), "the folder name reached a shell");
	free(injected);
	free(out);
	free(rec);
	free(err);
	free(arc);
}

/* An archive that fails half-way (a plugin outside the config's folder) is
 * removed, whatever its name; nothing is left beside it. */
Test(audit, failed_archive_with_an_awkward_name_is_removed)
{
	char *src = kv_xasprintf("%s/tests/plugins/.libs/fine.so", getenv("KAIEVAL_BUILDDIR"));
	char *so = kv_xasprintf("%s/plug/fine.so", dir);
	kvt_copy(src, so);
	kvt_write(dir, "round/data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"../plug/fine.so\"; kind = \"score\"; points = 10.0; }",
			       "    advance = 4;");
	kvt_write(dir, "round/r.cfg", cfg);
	char *cfg_path = kv_xasprintf("%s/round/r.cfg", dir), *arc = awkward_name();
	const char *args[] = {"archive", cfg_path, "-o", arc, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2, "%s", err);
	cr_expect(strstr(err, "a plugin outside the config's folder cannot be archived") != NULL, "%s", err);
	DIR *d = opendir(dir);
	cr_assert(d);
	size_t entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.') {
			entries++;
			cr_expect(strcmp(e->d_name, "plug") == 0 || strcmp(e->d_name, "round") == 0,
				  "left behind: %s", e->d_name);
		}
	closedir(d);
	cr_expect_eq(entries, 2, "INJECTED or a temporary folder left behind");
	free(err);
	free(arc);
	free(cfg_path);
	free(cfg);
	free(so);
	free(src);
}

/* --- the record model: read back what run wrote ---------------------------- */

/* Run cfg with the kaieval binary; the record's path (caller frees). */
static char *record_of(const char *cfg, const char *name)
{
	char *out = kv_xasprintf("%s/%s.json", dir, name);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s: %s", cfg, err);
	free(err);
	return out;
}

static void expect_round_trip(const char *cfg, const char *name)
{
	char *path = record_of(cfg, name);
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	cr_assert(rec, "%s", err.msg);
	struct kv_buf again = {0};
	kv_record_write(rec, &again);
	char *bytes = kvt_read(path);
	cr_expect_str_eq(again.data, bytes, "%s: the record read back writes other bytes", name);
	free(bytes);
	kv_buf_free(&again);
	kv_record_free(rec);
	free(path);
}

Test(record, every_round_reads_back_to_the_same_bytes)
{
	const char *rounds[] = {"2026-01-stage1", "2026-01-stage1-table", "2026-02-repechage", "2026-08-stage2"};
	for (size_t i = 0; i < 4; i++) {
		char *rel = kv_xasprintf("conf/rounds/%s.cfg", rounds[i]);
		char *cfg = kvt_src(rel);
		expect_round_trip(cfg, rounds[i]);
		free(cfg);
		free(rel);
	}
}

/* Teams a-d; p (60 points, group g), q (40), gate k that b fails, flagged only.
 * Points p: a 60, b 30, c 36, d 24; q: a 40, b 20, c 14, d 26; totals a 100
 * and b = c = d = 50, a tie that q breaks: d 26, b 20, c 14.  Ranks a 1, d 2,
 * b 3, c 4; the 2 highest advance, b and c go on score. */
static char *tie_round(void)
{
	kvt_write(dir, "data/p.csv", "team,value,normalized\na,1,1\nb,0.5,0.5\nc,0.6,0.6\nd,0.4,0.4\n");
	kvt_write(dir, "data/q.csv", "team,value,normalized\na,1,1\nb,0.5,0.5\nc,0.35,0.35\nd,0.65,0.65\n");
	kvt_write(dir, "data/k.csv", "team,value,pass\na,1,1\nb,0,0\nc,1,1\nd,1,1\n");
	char *cfg = kvt_config(
		"    { id = \"k\"; plugin = \"table\"; kind = \"gate\"; params = { file = \"k.csv\"; }; },\n"
		"    { id = \"p\"; plugin = \"table\"; kind = \"score\"; points = 60.0; group = \"g\"; params = { file = \"p.csv\"; }; },\n"
		"    { id = \"q\"; plugin = \"table\"; kind = \"score\"; points = 40.0; params = { file = \"q.csv\"; }; }",
		"    advance = 2; gate_failure = \"flag\"; tie_break = [ \"q\" ];");
	kvt_write(dir, "r.cfg", cfg);
	free(cfg);
	return kv_xasprintf("%s/r.cfg", dir);
}

Test(record, a_tie_and_a_flagged_gate_read_back_typed)
{
	char *cfg = tie_round();
	expect_round_trip(cfg, "tie");
	char *path = record_of(cfg, "tie");
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	cr_assert(rec, "%s", err.msg);
	const char *order[] = {"a", "d", "b", "c"};
	const long ranks[] = {1, 2, 3, 4};
	const enum kv_reason reasons[] = {KV_REASON_NONE, KV_REASON_NONE, KV_REASON_LOWEST_TOTAL, KV_REASON_LOWEST_TOTAL};
	cr_assert_eq(rec->team_count, 4);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(rec->teams[i].team.id, order[i]);
		cr_expect_eq(rec->teams[i].standing.rank, ranks[i], "%s", order[i]);
		cr_expect_eq(rec->teams[i].standing.reason, reasons[i], "%s", order[i]);
	}
	const struct kv_standing *d = &rec->teams[1].standing, *b = &rec->teams[2].standing;
	cr_assert_eq(d->tied_count, 2);
	cr_expect_eq(d->tied_with[0], 2, "d is tied with b (record position 2)");
	cr_expect_eq(d->tied_with[1], 3, "and c (record position 3)");
	cr_expect_eq(d->tie_break_by, 0, "separated by tie_break[0] = q");
	cr_assert_eq(b->failed_count, 1);
	cr_expect_str_eq(rec->criteria[b->failed_gates[0]].id, "k");
	cr_expect_eq(rec->teams[0].standing.tied_count, 0);
	cr_expect_eq(rec->teams[0].standing.tie_break_by, -1);
	cr_assert_eq(rec->group_count, 1);
	cr_expect_float_eq(rec->teams[1].groups[0], 24.0, 1e-12, "d's group g holds p only");
	cr_expect_eq(rec->eliminated_count, 2);
	kv_record_free(rec);
	free(path);
	free(cfg);
}

Test(record, gate_reason_reads_back_as_the_criterion)
{
	/* examples/2026-01-stage1-table/README.md: naver fails the independence
	 * gate and is not ranked; nc is the lowest of the four ranked teams. */
	char *path = record_of(example, "stage1");
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	cr_assert(rec, "%s", err.msg);
	const struct kv_rec_team *naver = &rec->teams[kv_rec_team_index(rec, "naver")];
	const struct kv_rec_team *nc = &rec->teams[kv_rec_team_index(rec, "nc")];
	cr_expect_eq(naver->standing.reason, KV_REASON_GATE);
	cr_expect_str_eq(rec->criteria[naver->standing.reason_gate].id, "independence");
	cr_expect_eq(naver->standing.rank, 0);
	cr_expect_eq(naver->standing.status, KV_ELIMINATED);
	cr_expect_eq(nc->standing.reason, KV_REASON_LOWEST_TOTAL);
	cr_expect_eq(nc->standing.rank, 4);
	kv_record_free(rec);
	free(path);
}

/* A record edited by hand: each error names the file and the member. */
static void expect_refused(const char *from, const char *to, const char *needle)
{
	char *path = record_of(example, "edited");
	char *text = kvt_read(path);
	char *at = strstr(text, from);
	cr_assert(at, "%s not in the record", from);
	char *edited = kv_xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	kvt_write(dir, "edited.json", edited);
	const char *args[] = {"explain", path, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2, "%s", err);
	cr_expect(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
	cr_expect(strstr(err, path) != NULL, "the file is not named: %s", err);
	free(err);
	free(edited);
	free(text);
	free(path);
}

Test(record, a_reason_naming_no_gate_is_refused)
{
	expect_refused("\"gate:independence\"", "\"gate:nosuch\"",
		       "not a kaieval result record: teams[naver].reason names a gate that is not among the criteria");
}

Test(record, an_unknown_reason_is_refused)
{
	expect_refused("\"lowest_total\"", "\"unlucky\"",
		       "not a kaieval result record: teams[nc].reason is not a reason a record gives");
}

Test(record, a_missing_member_is_refused)
{
	expect_refused("\"status\": \"eliminated\",", "",
		       "not a kaieval result record: teams[nc].status is missing or not one of the words a record uses");
}

/* The model would drop it, and verify would then miss the change. */
Test(record, an_unknown_member_is_refused)
{
	expect_refused("\"status\": \"eliminated\"", "\"state\": \"eliminated\"",
		       "not a kaieval result record: teams[nc].state is not a member this part of a record has");
}

/* kaieval never writes one (the config refuses them), and a name reaches
 * every table on a terminal. */
Test(record, a_control_character_in_a_name_is_refused)
{
	expect_refused("\"name\": \"NC AI\"", "\"name\": \"NC\\u001b[2J AI\"",
		       "not a kaieval result record: teams[nc].name holds a control character");
}

Test(record, a_member_given_twice_is_refused)
{
	expect_refused("\"status\": \"eliminated\"", "\"status\": \"eliminated\", \"status\": \"advance\"",
		       "not a kaieval result record: teams[nc].status is given twice");
}

/* A number no 64-bit integer holds (the conversion would be undefined). */
Test(record, an_integer_out_of_range_is_refused)
{
	expect_refused("\"rank\": 4", "\"rank\": 1.33333e88",
		       "not a kaieval result record: teams[nc].rank is out of range (a 64-bit integer)");
	expect_refused("\"rank\": 4", "\"rank\": -1e19",
		       "teams[nc].rank is out of range");
}

Test(record, a_team_eliminated_twice_is_refused)
{
	expect_refused("\"eliminated\": [\n    \"nc\"", "\"eliminated\": [\"nc\", \"nc\"",
		       "not a kaieval result record: eliminated names the same thing twice");
}

/* Replace an archive's record by edited, with the manifest's hash updated
 * to match, as one who edits an archive would. */
static void replace_record(const char *arc, const char *edited)
{
	char *rec = kv_xasprintf("%s/result.json", arc), *man = kv_xasprintf("%s/manifest.json", arc);
	char *text = kvt_read(rec), *manifest = kvt_read(man);
	char old_sha[65], new_sha[65];
	kv_sha256_hex(text, strlen(text), old_sha);
	kv_sha256_hex(edited, strlen(edited), new_sha);
	char *at = strstr(manifest, old_sha);
	cr_assert(at);
	memcpy(at, new_sha, 64);
	kvt_write(arc, "result.json", edited);
	kvt_write(arc, "manifest.json", manifest);
	free(manifest);
	free(text);
	free(man);
	free(rec);
}

/* A member added to the archived record, with the manifest's hash updated
 * to match: the scoring compares equal, but the record is not one. */
Test(record, verify_refuses_an_archived_record_with_an_added_member)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc), *text = kvt_read(rec);
	char *edited = kv_xasprintf("{\n  \"note\": \"added\",%s", text + 1);
	replace_record(arc, edited);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "NOT verified") != NULL, "%s", out);
	cr_expect(strstr(out, "note is not a member this part of a record has") != NULL, "%s", out);
	free(out);
	free(edited);
	free(text);
	free(rec);
	free(arc);
}

/* The record is scoring only: what identifies a build (a plugin file's
 * digest) is in the archive manifest, so two builds give the same record. */
Test(record, a_plugin_entry_holds_no_build_identity)
{
	static const char *const allowed[] = {"criterion", "plugin", "version", "abi", "evidence", "warnings"};
	char *path = record_of(example, "plain");
	cJSON *doc = kvt_record(path);
	cr_assert(doc);
	const cJSON *p;
	size_t n = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "plugins")) {
		for (const cJSON *m = p->child; m; m = m->next) {
			int known = 0;
			for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
				known |= strcmp(m->string, allowed[i]) == 0;
			cr_expect(known, "plugins[%zu] holds '%s'", n, m->string);
		}
		n++;
	}
	cr_expect_eq(n, 6, "one plugin entry per criterion of the table round");
	cJSON_Delete(doc);
	free(path);
}

/* An archive written when the record still held the plugins' file digests:
 * the record reads, and verify says only build identities differ. */
Test(record, an_archive_whose_record_holds_plugin_digests_verifies)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc), *text = kvt_read(rec);
	const char *from = "\"abi\": \"1.1\",";
	struct kv_buf edited = {0};
	for (const char *p = text, *at; *p; p = at + strlen(from)) {
		if (!(at = strstr(p, from))) {
			kv_buf_puts(&edited, p);
			break;
		}
		kv_buf_printf(&edited, "%.*s%s \"sha256\": \"%064d\",", (int)(at - p), p, from, 0);
	}
	replace_record(arc, edited.data);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 0, "%s", out);
	cr_expect(strstr(out, "only build identities differ") != NULL, "%s", out);
	cr_expect(strstr(out, "note: the archived record holds the plugins' file digests") != NULL, "%s", out);
	const char *args[] = {"explain", rec, "lg", NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 0);
	free(out);
	kv_buf_free(&edited);
	free(text);
	free(rec);
	free(arc);
}
