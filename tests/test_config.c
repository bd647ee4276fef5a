/* Round config errors (round-config.md, "Errors the user must get"): one bad
 * file each, exit 2, a message naming the file, line and field, no output. */
#include <criterion/criterion.h>
#include <libconfig.h>
#include <string.h>
#include "support.h"

#define TABLE_X "    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0; params = { file = \"x.csv\"; }; }"

static char *dir;

static void setup(void)
{
	dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Run cfg; expect exit 2, each needle in stderr, and no result file. */
static void expect_error(const char *cfg, const char *needle1, const char *needle2)
{
	char *err = NULL;
	int rc = kvt_cli_run(dir, cfg, &err);
	char *out = kv_xasprintf("%s/out.json", dir);
	cr_expect_eq(rc, 2, "exit status %d, stderr: %s", rc, err);
	cr_expect(strstr(err, needle1) != NULL, "'%s' not in: %s", needle1, err);
	if (needle2)
		cr_expect(strstr(err, needle2) != NULL, "'%s' not in: %s", needle2, err);
	cr_expect(!kvt_exists(out), "an output file was written");
	free(out);
	free(err);
}

/* Replace the first `from` in text (which it frees) by `to`. */
static char *replace(char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	cr_assert(at, "'%s' not in the template", from);
	char *out = kv_xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	free(text);
	return out;
}

Test(config, good_config_runs)
{
	char *cfg = kvt_config(NULL, NULL);
	char *err = NULL;
	cr_assert_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	free(err);
	free(cfg);
}

Test(config, syntax_error_names_line)
{
	char *cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = = 7L;");
	expect_error(cfg, "r.cfg:7", "syntax error");
	free(cfg);
}

Test(config, missing_required_key)
{
	char *cfg = replace(kvt_config(NULL, NULL), "  seed = 7L;\n", "");
	expect_error(cfg, "r.cfg:", "missing required key 'seed'");
	free(cfg);
}

Test(config, unknown_round_key_with_hint)
{
	char *cfg = replace(kvt_config(NULL, NULL), "title =", "titel =");
	expect_error(cfg, "r.cfg:4", "unknown key 'titel' (did you mean 'title'?)");
	free(cfg);
}

Test(config, unknown_top_level_key)
{
	char *cfg = replace(kvt_config(NULL, NULL), "round:", "extra = 1;\nround:");
	expect_error(cfg, "r.cfg:", "unknown key 'extra'");
	free(cfg);
}

Test(config, unknown_team_key)
{
	char *cfg = replace(kvt_config(NULL, NULL), "model = \"ma\";", "modle = \"ma\";");
	expect_error(cfg, "round.teams[0]", "did you mean 'model'?");
	free(cfg);
}

Test(config, unknown_criterion_key)
{
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; pionts = 10.0; }", NULL);
	expect_error(cfg, "round.criteria[0]", "did you mean 'points'?");
	free(cfg);
}

Test(config, unknown_selection_key)
{
	char *cfg = kvt_config(NULL, "    eliminate_lowset = 1;");
	expect_error(cfg, "round.selection", "did you mean 'eliminate_lowest'?");
	free(cfg);
}

Test(config, wrong_type)
{
	char *cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = \"seven\";");
	expect_error(cfg, "r.cfg:7", "round.seed: must be an integer");
	free(cfg);
}

Test(config, bad_round_id)
{
	char *cfg = replace(kvt_config(NULL, NULL), "id = \"test\"", "id = \"Test Round\"");
	expect_error(cfg, "round.id", "[a-z0-9-]+");
	free(cfg);
}

Test(config, bad_date)
{
	char *cfg = replace(kvt_config(NULL, NULL), "2026-01-15", "15.01.2026");
	expect_error(cfg, "round.date", "ISO date");
	free(cfg);
}

Test(config, impossible_date)
{
	char *cfg = replace(kvt_config(NULL, NULL), "2026-01-15", "2026-02-29");
	expect_error(cfg, "round.date", "'2026-02-29' is not an ISO date");
	free(cfg);
}

Test(config, absolute_plugin_path)
{
	char *cfg = replace(kvt_config(NULL, NULL), "plugin = \"table\"", "plugin = \"/tmp/x.so\"");
	expect_error(cfg, "r.cfg:", "relative to the config file, not an absolute one");
	free(cfg);
}

Test(config, duplicate_team_id)
{
	char *cfg = replace(kvt_config(NULL, NULL), "id = \"b\"", "id = \"a\"");
	expect_error(cfg, "round.teams[1].id", "duplicate team id 'a'");
	free(cfg);
}

Test(config, duplicate_criterion_id)
{
	char *cfg = kvt_config(TABLE_X ",\n" TABLE_X, NULL);
	expect_error(cfg, "round.criteria[1].id", "duplicate criterion id 'x'");
	free(cfg);
}

Test(config, points_missing)
{
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; params = { file = \"x.csv\"; }; }", NULL);
	expect_error(cfg, "round.criteria[0]", "missing required key 'points'");
	free(cfg);
}

/* Two criteria of 1.7e308 points would total infinity: refused at the config. */
Test(config, points_beyond_the_bound)
{
	char *cfg = replace(kvt_config(NULL, NULL), "points = 10.0", "points = 1.7e308");
	expect_error(cfg, "round.criteria[0].points", "1.7e+308 is more than the 1e+09 points a criterion may have");
	free(cfg);
}

/* Every string of a config may reach the record, which is JSON: bytes that
 * are not UTF-8, raw or written as a \x escape, are refused with the line. */
Test(config, strings_are_utf8)
{
	char *cfg = replace(kvt_config(NULL, NULL), "title = \"Test round\"", "title = \"Test \\xff round\"");
	expect_error(cfg, "r.cfg:", "title: not valid UTF-8 (byte 0xff at 6)");
	free(cfg);
	cfg = replace(kvt_config(NULL, NULL), "title = \"Test round\"", "title = \"Test \xc0\xaf round\"");
	expect_error(cfg, "r.cfg:4: not valid UTF-8 (byte 0xc0)", NULL);
	free(cfg);
	cfg = replace(kvt_config(NULL, NULL), "title = \"Test round\"", "title = \"Test \\x1b[2J round\"");
	expect_error(cfg, "r.cfg:", "title: a control character (byte 0x1b at 6)");
	free(cfg);
	cfg = replace(kvt_config(NULL, NULL), "title = \"Test round\"", "title = \"Test\\tround\"");
	char *tab_err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &tab_err), 0, "%s", tab_err);
	free(tab_err);
	free(cfg);
	cfg = replace(kvt_config(NULL, NULL), "title = \"Test round\"", "title = \"1차 평가\"");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	free(err);
	free(cfg);
}

Test(config, points_negative)
{
	char *cfg = replace(kvt_config(NULL, NULL), "points = 10.0", "points = -1.0");
	expect_error(cfg, "round.criteria[0].points", "must not be negative");
	free(cfg);
}

Test(config, points_on_a_gate)
{
	char *cfg = replace(kvt_config(NULL, NULL), "kind = \"score\"", "kind = \"gate\"");
	expect_error(cfg, "round.criteria[0].points", "only score criteria have points");
	free(cfg);
}

Test(config, unknown_kind)
{
	char *cfg = replace(kvt_config(NULL, NULL), "kind = \"score\"", "kind = \"bonus\"");
	expect_error(cfg, "round.criteria[0].kind", "\"score\", \"gate\" or \"info\"");
	free(cfg);
}

Test(config, group_equal_to_criterion_id)
{
	char *cfg = kvt_config(TABLE_X ",\n"
			       "    { id = \"y\"; plugin = \"table\"; kind = \"score\"; points = 1.0; group = \"x\"; params = { file = \"x.csv\"; }; }",
			       NULL);
	expect_error(cfg, "round.criteria[1].group", "also a criterion id");
	free(cfg);
}

Test(config, both_selection_rules)
{
	char *cfg = kvt_config(NULL, "    eliminate_lowest = 1; advance = 3;");
	expect_error(cfg, "round.selection", "exactly one of 'eliminate_lowest' and 'advance'");
	free(cfg);
}

Test(config, neither_selection_rule)
{
	char *cfg = kvt_config(NULL, "    gate_failure = \"flag\";");
	expect_error(cfg, "round.selection", "exactly one of 'eliminate_lowest' and 'advance'");
	free(cfg);
}

Test(config, selection_n_larger_than_teams)
{
	char *cfg = kvt_config(NULL, "    advance = 5;");
	expect_error(cfg, "round.selection.advance", "more than the 4 teams");
	free(cfg);
}

Test(config, tie_break_not_a_score_criterion)
{
	char *cfg = kvt_config(NULL, "    eliminate_lowest = 1; tie_break = [ \"experts\" ];");
	expect_error(cfg, "round.selection.tie_break[0]", "'experts' is not a score criterion or group");
	free(cfg);
}

Test(config, bad_choice)
{
	char *cfg = kvt_config(NULL, "    eliminate_lowest = 1; unresolved_tie = \"coin\";");
	expect_error(cfg, "round.selection.unresolved_tie", "\"error\" or \"keep\"");
	free(cfg);
}

Test(config, plugin_not_found)
{
	char *cfg = replace(kvt_config(NULL, NULL), "plugin = \"table\"", "plugin = \"nosuchplugin\"");
	expect_error(cfg, "r.cfg:", "plugin 'nosuchplugin' not found");
	free(cfg);
}

Test(config, plugin_not_loadable)
{
	kvt_write(dir, "plugins/junk.so", "this is not an ELF file\n");
	char *cfg = replace(kvt_config(NULL, NULL), "plugin = \"table\"", "plugin = \"plugins/junk.so\"");
	expect_error(cfg, "r.cfg:", "cannot load plugin");
	free(cfg);
}

Test(config, plugin_for_another_abi)
{
	char *cfg = replace(kvt_config(NULL, NULL), "plugin = \"table\"", "plugin = \"badabi\"");
	expect_error(cfg, "badabi.so", "built for plugin ABI 2.0");
	free(cfg);
}

Test(config, undeclared_param_with_hint)
{
	char *cfg = replace(kvt_config(NULL, NULL), "file = \"x.csv\";", "file = \"x.csv\"; unti = \"pt\";");
	expect_error(cfg, "r.cfg:", "has no param 'unti' (did you mean 'unit'?)");
	free(cfg);
}

Test(config, param_of_wrong_type)
{
	char *cfg = replace(kvt_config(NULL, NULL), "file = \"x.csv\";", "file = 3;");
	expect_error(cfg, "r.cfg:", "param 'file' must be of type path, not integer");
	free(cfg);
}

Test(config, missing_required_param)
{
	char *cfg = replace(kvt_config(NULL, NULL), "params = { file = \"x.csv\"; };", "");
	expect_error(cfg, "r.cfg:", "missing required param 'file'");
	free(cfg);
}

Test(config, data_directory_missing)
{
	char *cfg = replace(kvt_config(NULL, NULL), "data = \"data\"", "data = \"nowhere\"");
	expect_error(cfg, "round.data", "nowhere");
	free(cfg);
}

Test(config, data_directory_absolute)
{
	char *cfg = replace(kvt_config(NULL, NULL), "data = \"data\"", "data = \"/tmp\"");
	expect_error(cfg, "round.data", "relative");
	free(cfg);
}

Test(config, config_file_missing)
{
	char *missing = kv_xasprintf("%s/none.cfg", dir);
	const char *args[] = {"run", missing, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "none.cfg") != NULL, "%s", err);
	free(err);
	free(missing);
}

/* An included file, inside the folder or out of it, would shape the round
 * outside the config digest and the archive: refused before anything is
 * read, at the directive's line. */
Test(config, include_refused)
{
	static const char *const cases[][3] = {
		{"  seed = 7L;\n@include \"../outside.cfg\"\n", "r.cfg:8: '@include \"../outside.cfg\"'",
		 "not supported"},
		{"  @include \"seed.cfg\"\n", "r.cfg:7: '@include \"seed.cfg\"'", "config digest"},
	};
	kvt_write(dir, "seed.cfg", "  seed = 7L;\n");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *cfg = replace(kvt_config(NULL, NULL), "  seed = 7L;\n", cases[i][0]);
		expect_error(cfg, cases[i][1], cases[i][2]);
		free(cfg);
	}
}

/* The words in a comment or a string are no directive. */
Test(config, include_in_comment_or_string_is_text)
{
	char *cfg = replace(kvt_config(NULL, NULL), "  seed = 7L;\n",
			    "  seed = 7L; # @include \"a.cfg\"\n"
			    "/* a block comment\n@include \"b.cfg\" */\n"
			    "// @include \"c.cfg\"\n");
	cfg = replace(cfg, "title = \"Test round\"", "title = \"no \\\"\n@include \\\"d.cfg\\\"\"");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	free(err);
	free(cfg);
}

/* An archive holds the config file alone, so a config that includes
 * another file is not archived either: nothing is written. */
Test(config, include_not_archived)
{
	kvt_write(dir, "seed.cfg", "  seed = 7L;\n");
	char *cfg = replace(kvt_config(NULL, NULL), "  seed = 7L;\n", "@include \"seed.cfg\"\n");
	kvt_write(dir, "r.cfg", cfg);
	char *path = kv_xasprintf("%s/r.cfg", dir), *arc = kv_xasprintf("%s/arc", dir), *err = NULL;
	const char *args[] = {"archive", path, "-o", arc, NULL};
	cr_expect_eq(kvt_exec(args, NULL, &err), 2, "%s", err);
	cr_expect(strstr(err, "r.cfg:7: '@include \"seed.cfg\"'") != NULL, "%s", err);
	cr_expect(!kvt_exists(arc), "an archive was written");
	free(err);
	free(arc);
	free(path);
	free(cfg);
}

/* --- integers libconfig would clamp or cut, dates sscanf would take -------- */

Test(config, a_seed_beyond_64_bits_is_refused_not_clamped)
{
	/* libconfig reads this as INT64_MAX, silently */
	char *cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = 99999999999999999999999L;");
	expect_error(cfg, "r.cfg:7: round.seed: 99999999999999999999999L does not fit in a 64-bit integer", NULL);
	free(cfg);
	cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = -99999999999999999999999;");
	expect_error(cfg, "r.cfg:7: round.seed: -99999999999999999999999 does not fit in a 64-bit integer", NULL);
	free(cfg);
	/* cut to its low 32 bits (0), silently */
	cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = 0x100000000;");
	expect_error(cfg, "r.cfg:7: round.seed: 0x100000000 does not fit in a 32-bit integer", NULL);
	free(cfg);
}

Test(config, the_largest_64_bit_seed_is_read_as_written)
{
	char *cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = 9223372036854775807L; # 99999999999999999999999");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	char *out = kv_xasprintf("%s/out.json", dir), *text = kvt_read(out);
	cr_expect(text && strstr(text, "\"seed\": 9223372036854775807"), "%s", text);
	free(text); free(out); free(err); free(cfg);
}

Test(config, other_integer_keys_beyond_64_bits_are_refused)
{
	/* memory_limit of a criterion, and a plugin param (table's none is an
	 * integer: an unknown one, refused for its size before its name) */
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
			       "      memory_limit = 18446744073709551616; params = { file = \"x.csv\"; }; }", NULL);
	expect_error(cfg, "round.criteria[0].memory_limit: 18446744073709551616 does not fit in a 64-bit integer", NULL);
	free(cfg);
	cfg = kvt_config("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
			 "      params = { file = \"x.csv\"; n = [1, 2, 99999999999999999999]; }; }", NULL);
	expect_error(cfg, "round.criteria[0].params.n[2]: 99999999999999999999 does not fit in a 64-bit integer", NULL);
	free(cfg);
}

/* Without L, libconfig 1.5 cuts a decimal to 32 bits, later versions read
 * it as 64: either way the round runs with the value written, or not at all. */
Test(config, a_decimal_beyond_32_bits_without_l_is_read_as_written_or_refused)
{
	config_t c;
	config_init(&c);
	cr_assert(config_read_string(&c, "a = 4294967296;"));
	long long as_read = config_setting_get_int64(config_lookup(&c, "a"));
	config_destroy(&c);
	char *cfg = replace(kvt_config(NULL, NULL), "seed = 7L;", "seed = 4294967296;");
	if (as_read != 4294967296LL) {
		expect_error(cfg, "r.cfg:7: round.seed: 4294967296 does not fit in a 32-bit integer "
			     "(write L after it for 64 bits)", NULL);
	} else {
		char *err = NULL;
		cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
		free(err);
	}
	free(cfg);
}

Test(config, a_date_with_a_sign_or_a_space_is_refused)
{
	static const char *const dates[] = {"+026-01-15", " 026-01-15", "2026-+1-15", "2026-01- 5", "2026-02-30"};
	for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
		char *cfg = replace(kvt_config(NULL, NULL), "2026-01-15", dates[i]);
		char *msg = kv_xasprintf("r.cfg:5: round.date: '%s' is not an ISO date YYYY-MM-DD", dates[i]);
		expect_error(cfg, msg, NULL);
		free(msg);
		free(cfg);
	}
}
