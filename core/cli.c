#include "cli.h"
#include "attest.h"
#include "audit.h"
#include "fpexec.h"
#include "isolate.h"
#include "publish.h"
#include "loader.h"
#include "output.h"
#include "report.h"
#include "result.h"
#include "robust.h"
#include "run.h"

#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

void kv_usage(FILE *f)
{
	fputs("usage: kaieval run ROUND.cfg|DIR [-o RESULT.json] [--report REPORT.html]\n"
	      "       kaieval plugins [NAME]\n"
	      "       kaieval archive ROUND.cfg -o DIR\n"
	      "       kaieval verify DIR [--pubkey PUB.pem ...] [--threshold T]\n"
	      "       kaieval attest DIR|RESULT.json --key KEY.pem [--key ...] [-o FILE]\n"
	      "       kaieval explain RESULT.json|DIR [TEAM]\n"
	      "       kaieval diff [--scoring] OLD.json NEW.json\n"
	      "       kaieval whatif ROUND.cfg|DIR --set KEY=VALUE [--set ...] [-o RESULT.json]\n"
	      "       kaieval report RESULT.json|ARCHIVE_DIR [--robustness R.json] -o REPORT.html\n"
	      "       kaieval publish RESULT.json --level top|gap|full [--csv] [--digits N]\n"
	      "       kaieval robustness ROUND.cfg|DIR [-o FILE] [--replicates N] [--sources LIST]\n"
	      "                          [--weights dirichlet:C|box:PCT] [--seed S]\n"
	      "                          [--scenario 'KEY=VALUE ...']...\n"
	      "       kaieval fingerprint MODEL_DIR -o FILE [-j N] [--sample K]\n"
	      "       kaieval fingerprint --shard FILE [--index INDEX.json] -o FILE | --merge PART... -o FILE\n"
	      "       kaieval --help | --version\n"
	      "  run, archive, verify, whatif and plugins also take --no-isolation (plugins\n"
	      "  run in process, for a debugger) or --require-isolation\n"
	      "\n"
	      "  run       evaluate a round: load each criterion's plugin, score every team,\n"
	      "            combine by the round's rules; print the ranking, write the record\n"
	      "  plugins   list installed plugins, or document one plugin's parameters\n"
	      "  archive   run a round and keep config, every input read, record and hashes\n"
	      "  verify    check an archive's signatures and files, rerun it; exit 0 only\n"
	      "            if it gives the archived scoring\n"
	      "  attest    sign an archive: an in-toto statement in a DSSE envelope\n"
	      "  explain   how each point of each (or one) team was derived, from a record\n"
	      "  diff      what changed between two records (exit 1 when anything did)\n"
	      "  whatif    rerun with config keys overridden; decisions side by side\n"
	      "  report    the record as one self-contained HTML page for people\n"
	      "  publish   the disclosure tables of a record, at a chosen level of detail\n"
	      "  robustness  how likely each decision is under resampling and other weights,\n"
	      "            and the smallest change of the points that flips it\n"
	      "  fingerprint  hashes, moments and samples of a model's tensors, for forensics\n"
	      "\n"
	      "Exit status: 0 done, 1 a check found a difference, 2 bad usage, config or\n"
	      "input, 3 internal error or plugin failure.  See kaieval(1).\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("kaieval: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	kv_usage(stderr);
	return 2;
}

/* An output over the round's config, an input or a plugin would make the
 * round impossible to rerun: refuse it before anything is written. */
int kv_output_not_read_by(const struct kv_run *run, const char *output, struct kv_error *err)
{
	const char *config = run->round->config_path;
	int rc = kv_output_not_one_of(output, "the round's config", &config, 1, err);
	for (size_t i = 0; rc == 0 && i < run->inputs.count; i++) {
		char *path = kv_xasprintf("%s/%s", run->inputs.data_dir, run->inputs.records[i].path);
		const char *one = path;
		rc = kv_output_not_one_of(output, "an input of the round", &one, 1, err);
		free(path);
	}
	for (size_t c = 0; rc == 0 && c < run->evaluated; c++) {
		const char *so = run->results[c].plugin.path;
		if (so)
			rc = kv_output_not_one_of(output, "a plugin of the round", &so, 1, err);
	}
	return rc;
}

/* The report of the run, as `kaieval report` would write it from the record. */
static int write_report(const struct kv_run *run, const char *report, const char *output, struct kv_error *err)
{
	int rc = kv_output_not_read_by(run, report, err);
	if (rc == 0 && output)
		rc = kv_output_not_one_of(report, "the record", &output, 1, err);
	if (rc)
		return rc;
	struct kv_record *rec = kv_record_from_run(run);
	struct kv_buf html = {0};
	kv_report_html(rec, NULL, &html);
	rc = kv_write_file_atomic(report, html.data, html.len, err);
	kv_buf_free(&html);
	kv_record_free(rec);
	return rc;
}

int kv_cmd_run(int argc, char **argv)
{
	const char *config = NULL, *output = NULL, *report = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0 ||
		    strcmp(argv[i], "--report") == 0) {
			if (++i >= argc)
				return usage_error("%s needs a file name", argv[i - 1]);
			*(strcmp(argv[i - 1], "--report") == 0 ? &report : &output) = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("run: unknown option '%s'", argv[i]);
		} else if (!config) {
			config = argv[i];
		} else {
			return usage_error("run: unexpected argument '%s'", argv[i]);
		}
	}
	if (!config)
		return usage_error("run: %s", "missing ROUND.cfg");
	struct kv_error err = {0};
	struct kv_run *run;
	struct kv_round_arg ra;
	int rc = kv_round_arg_open(config, &ra, &err);
	if (rc == 0)
		rc = kv_run_round(ra.config, ra.overrides, ra.override_count, &run, &err);
	kv_round_arg_close(&ra);
	if (rc) {
		kv_error_print(&err, stderr);
		return rc;
	}
	if (output && (rc = kv_output_not_read_by(run, output, &err)) == 0) {
		struct kv_buf json = {0};
		kv_result_json(run, &json);
		rc = kv_write_file_atomic(output, json.data, json.len, &err);
		kv_buf_free(&json);
	}
	if (rc == 0 && report)
		rc = write_report(run, report, output, &err);
	if (rc) {
		kv_error_print(&err, stderr);
		kv_run_free(run);
		return rc;
	}
	kv_result_table(run, stdout);
	kv_run_free(run);
	return 0;
}

static const char *type_text(const struct kv_param_decl *d)
{
	switch (d->type) {
	case KV_T_STRING: return "string";
	case KV_T_INT: return "int";
	case KV_T_FLOAT: return "float";
	case KV_T_BOOL: return "bool";
	case KV_T_PATH: return "path";
	case KV_T_LIST: return "list";
	case KV_T_GROUP: return "group";
	default: return "?";
	}
}

static void describe(const struct kv_loaded_plugin *lp)
{
	const struct kv_plugin *p = lp->desc;
	printf("%s %s — %s\n", p->name, p->version, p->summary);
	printf("file: %s\nabi: %u.%u\nkinds:%s%s%s\n\nparameters:\n",
	       lp->path ? lp->path : "(built in)", p->abi_version >> 16, p->abi_version & 0xffff,
	       p->kinds & KV_KIND_SCORE ? " score" : "", p->kinds & KV_KIND_GATE ? " gate" : "",
	       p->kinds & KV_KIND_INFO ? " info" : "");
	for (const struct kv_param_decl *d = p->params; d->name; d = kv_param_next(p, d)) {
		printf("  %-18s %-6s ", d->name, type_text(d));
		if (d->required)
			printf("required");
		else if (d->def)
			printf("default %s", d->def);
		else
			printf("optional");
		if (d->choices)
			printf("  (%s)", d->choices);
		printf("\n      %s\n", d->doc);
	}
}

int kv_cmd_plugins(int argc, char **argv)
{
	struct kv_error err = {0};
	struct kv_loaded_plugin lp;
	if (argc > 2)
		return usage_error("plugins: unexpected argument '%s'", argv[2]);
	if (argc == 2) {
		if (kv_plugin_load(argv[1], ".", "plugins", &lp, &err)) {
			kv_error_print(&err, stderr);
			return err.status;
		}
		describe(&lp);
		kv_plugin_unload(&lp);
		return 0;
	}
	char **names;
	size_t n;
	kv_plugin_list(&names, &n);
	if (n == 0) {
		char *searched = kv_plugin_search_text();
		fprintf(stderr, "kaieval: no plugin found (searched %s)\n", searched);
		free(searched);
		free(names);
		return KV_EXIT_INPUT;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct kv_error e = {0};
		if (kv_plugin_load(names[i], ".", "plugins", &lp, &e) == 0) {
			printf("%-12s %-8s %s\n", lp.desc->name, lp.desc->version, lp.desc->summary);
			kv_plugin_unload(&lp);
		} else {
			kv_error_print(&e, stderr);
			rc = 2;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int cmd_archive(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[2], "-o") != 0)
		return usage_error("%s", "archive: expected ROUND.cfg -o DIR");
	return kv_archive(argv[1], argv[3], stdout);
}

/* Options that take a value and may repeat (--key, --pubkey) collect
 * into list; returns the index of the value, or 0 when it is missing. */
static int take_value(int argc, char **argv, int i, const char **list, size_t *n)
{
	if (i + 1 >= argc)
		return 0;
	list[(*n)++] = argv[i + 1];
	return i + 1;
}

static int cmd_verify(int argc, char **argv)
{
	const char **keys = calloc((size_t)argc, sizeof *keys);
	const char *dir = NULL;
	struct kv_attest_check check = {keys, 0, 0};
	int rc = 0;
	for (int i = 1; rc == 0 && i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--pubkey") == 0)
			rc = (i = take_value(argc, argv, i, keys, &check.pubkey_count)) ? 0 : usage_error("%s", "verify: --pubkey needs a file");
		else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc &&
			 (check.threshold = strtoul(argv[i + 1], &end, 10)) > 0 && !*end)
			i++;
		else if (argv[i][0] == '-' || dir)
			rc = usage_error("verify: unexpected argument '%s'", argv[i]);
		else
			dir = argv[i];
	}
	if (rc == 0 && (!dir || check.threshold > check.pubkey_count))
		rc = usage_error("%s", "verify: expected DIR [--pubkey PUB.pem ...] [--threshold T], T at most the keys given");
	if (rc == 0)
		rc = kv_verify_signed(dir, &check, stdout);
	free(keys);
	return rc;
}

static int cmd_attest(int argc, char **argv)
{
	const char **keys = calloc((size_t)argc, sizeof *keys);
	const char *dir = NULL, *output = NULL;
	size_t n = 0;
	int rc = 0;
	for (int i = 1; rc == 0 && i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0)
			rc = (i = take_value(argc, argv, i, keys, &n)) ? 0 : usage_error("%s", "attest: --key needs a file");
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			output = argv[++i];
		else if (argv[i][0] == '-' || dir)
			rc = usage_error("attest: unexpected argument '%s'", argv[i]);
		else
			dir = argv[i];
	}
	if (rc == 0 && (!dir || n == 0))
		rc = usage_error("%s", "attest: expected DIR|RESULT.json --key KEY.pem [--key ...] [-o FILE]");
	if (rc == 0)
		rc = kv_attest(dir, keys, n, output, stdout);
	free(keys);
	return rc;
}

static int cmd_explain(int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		return usage_error("%s", "explain: expected RESULT.json|DIR [TEAM]");
	char *rec = kv_record_arg(argv[1]);
	int rc = kv_explain(rec, argc == 3 ? argv[2] : NULL, stdout);
	free(rec);
	return rc;
}

static int cmd_diff(int argc, char **argv)
{
	int scoring = argc > 1 && strcmp(argv[1], "--scoring") == 0;
	argc -= scoring;
	argv += scoring;
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return usage_error("%s", "diff: expected [--scoring] OLD.json NEW.json");
	char *a = kv_record_arg(argv[1]), *b = kv_record_arg(argv[2]);
	int rc = kv_diff(a, b, scoring, stdout);
	free(a);
	free(b);
	return rc;
}

static int cmd_whatif(int argc, char **argv)
{
	const char **sets = calloc((size_t)argc, sizeof *sets);
	const char *output = NULL;
	size_t n = 0;
	int rc = 0;
	for (int i = 2; rc == 0 && i < argc; i++) {
		if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
			sets[n++] = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			output = argv[++i];
		else
			rc = usage_error("whatif: unexpected argument '%s'", argv[i]);
	}
	if (rc == 0 && (argc < 2 || argv[1][0] == '-' || n == 0))
		rc = usage_error("%s", "whatif: expected ROUND.cfg|DIR --set KEY=VALUE ... [-o RESULT.json]");
	if (rc == 0)
		rc = kv_whatif(argv[1], sets, n, output, stdout);
	free(sets);
	return rc;
}

static int cmd_publish(int argc, char **argv)
{
	const char *level = NULL, *spec = "2";
	int csv = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
			level = argv[++i];
		else if (strcmp(argv[i], "--csv") == 0)
			csv = 1;
		else if (strcmp(argv[i], "--digits") == 0 && i + 1 < argc)
			spec = argv[++i];
		else
			return usage_error("publish: unexpected argument '%s'", argv[i]);
	}
	if (argc < 2 || !level)
		return usage_error("%s", "publish: expected RESULT.json --level top|gap|full");
	if (strcmp(level, "top") != 0 && strcmp(level, "gap") != 0 && strcmp(level, "full") != 0)
		return usage_error("publish: --level must be top, gap or full, not '%s'", level);
	struct kv_digits digits;
	struct kv_error err = {0};
	if (kv_digits_parse(spec, &digits, &err)) {
		kv_error_print(&err, stderr);
		return err.status;
	}
	char *rec = kv_record_arg(argv[1]);
	int rc = kv_publish(rec, level, csv, &digits, stdout);
	free(rec);
	return rc;
}

static int cmd_report(int argc, char **argv)
{
	const char *input = NULL, *robustness = NULL, *output = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--robustness") == 0) && i + 1 < argc) {
			*(argv[i][1] == 'o' ? &output : &robustness) = argv[i + 1];
			i++;
		}
		else if (argv[i][0] != '-' && !input)
			input = argv[i];
		else
			return usage_error("report: unexpected argument '%s'", argv[i]);
	}
	if (!input || !output)
		return usage_error("%s", "report: expected RESULT.json|ARCHIVE_DIR [--robustness R.json] -o REPORT.html");
	return kv_report(input, robustness, output);
}

/* The subcommands; each gets argv from its own name on. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"run", kv_cmd_run},
	{"plugins", kv_cmd_plugins},
	{"archive", cmd_archive},
	{"verify", cmd_verify},
	{"attest", cmd_attest},
	{"explain", cmd_explain},
	{"diff", cmd_diff},
	{"whatif", cmd_whatif},
	{"report", cmd_report},
	{"publish", cmd_publish},
	{"fingerprint", kv_cmd_fingerprint},
	{"robustness", kv_cmd_robustness},
};

/* --no-isolation and --require-isolation, wherever they stand, for the
 * commands that run plugins (isolate.h); the rest of argv closes up. */
static void take_isolation_flags(int *argc, char **argv)
{
	int kept = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--no-isolation") == 0)
			kv_isolation_set(KV_ISOLATE_OFF);
		else if (strcmp(argv[i], "--require-isolation") == 0)
			kv_isolation_set(KV_ISOLATE_REQUIRE);
		else
			argv[kept++] = argv[i];
	}
	*argc = kept;
}

int kv_cli_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "missing command");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		kv_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("kaieval %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, KV_ABI_MAJOR, KV_ABI_MINOR);
		return 0;
	}
	static const char *const run_plugins[] = {"run", "archive", "verify", "whatif", "plugins", "robustness"};
	for (size_t i = 0; i < sizeof run_plugins / sizeof *run_plugins; i++)
		if (strcmp(cmd, run_plugins[i]) == 0)
			take_isolation_flags(&argc, argv);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		int rc = commands[i].run(argc - 1, argv + 1);
		if (rc == 0 && strcmp(cmd, "run") == 0)
			fprintf(stderr, "kaieval: plugins isolated: %s\n", kv_isolation_text());
		return rc;
	}
	return usage_error("unknown command '%s'", cmd);
}
