/* Plugins run isolated: a plugin that crashes, hangs, exits, hogs memory,
 * prints, reads or writes outside the round, opens a socket, runs a
 * program or lies about its inputs stops the round with one message that
 * names the criterion and the plugin, and nothing is written. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "isolate_wire.h"
#include "support.h"

static char *dir;

static void setup(void) { dir = kvt_table_dir(); }

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(isolation, .init = setup, .fini = teardown, .timeout = 60);

/* The kernel's Landlock ABI (0: none), asked as kaieval asks it. */
static int landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
	return v > 0 ? (int)v : 0;
#else
	return 0;
#endif
}

/* Run criterion `h` served by plugin `plugin` with extra criterion keys. */
static int run_hostile(const char *plugin, const char *extra, char **out, char **err)
{
	char *crit = kv_xasprintf("    { id = \"h\"; plugin = \"%s\"; kind = \"score\"; points = 1.0; %s }",
				  plugin, extra ? extra : "");
	char *cfg_text = kvt_config(crit, "    advance = 4;");
	kvt_write(dir, "r.cfg", cfg_text);
	char *cfg = kv_xasprintf("%s/r.cfg", dir), *o = kv_xasprintf("%s/out.json", dir);
	const char *args[] = {"run", cfg, "-o", o, NULL};
	int rc = kvt_exec(args, out, err);
	free(cfg);
	free(o);
	free(cfg_text);
	free(crit);
	return rc;
}

static int output_written(void)
{
	char *o = kv_xasprintf("%s/out.json", dir);
	int there = kvt_exists(o);
	free(o);
	return there;
}

/* exit 3, one message naming criterion and plugin file, and `what`. */
static void expect_stopped(const char *plugin, const char *extra, const char *what)
{
	char *err = NULL;
	int rc = run_hostile(plugin, extra, NULL, &err);
	char *file = kv_xasprintf("/%s.so", plugin);
	cr_expect_eq(rc, 3, "exit %d: %s", rc, err);
	cr_expect(strstr(err, "criterion 'h'"), "%s", err);
	cr_expect(strstr(err, file), "%s", err);
	cr_expect(strstr(err, what), "expected '%s' in: %s", what, err);
	cr_expect_eq(strchr(err, '\n'), strrchr(err, '\n'), "one message: %s", err);
	cr_expect_not(output_written());
	free(file);
	free(err);
}

Test(isolation, a_segfault_is_named_by_its_signal) { expect_stopped("h_segfault", NULL, "SIGSEGV"); }
Test(isolation, an_abort_is_named_by_its_signal) { expect_stopped("h_abort", NULL, "SIGABRT"); }
Test(isolation, exit_0_is_not_success) { expect_stopped("h_exit0", NULL, "exited with status 0 before it finished"); }
Test(isolation, exit_3_is_named) { expect_stopped("h_exit3", NULL, "exited with status 3 before it finished"); }

Test(isolation, a_spin_is_killed_at_the_timeout)
{
	expect_stopped("h_spin", "timeout = 0.5;", "did not finish within its timeout of 0.5 s");
}

Test(isolation, twenty_gigabytes_are_refused_at_the_memory_limit)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("AddressSanitizer's shadow memory leaves no room for an address-space limit");
#endif
	char *err = NULL;
	int rc = run_hostile("h_hog", "memory_limit = \"1G\";", NULL, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(strstr(err, "criterion 'h' (plugin h_hog): hostile: cannot allocate 20 GB"), "%s", err);
	cr_expect_not(output_written());
	free(err);
}

Test(isolation, printing_reaches_neither_the_table_nor_the_record)
{
	char *out = NULL, *err = NULL;
	int rc = run_hostile("h_print", NULL, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect_null(strstr(out, "HOSTILE"), "%s", out);
	cr_expect(strstr(out, "total"), "the table is there: %s", out);
	cr_expect(strstr(err, "HOSTILE PRINTS THIS"), "%s", err);
	char *o = kv_xasprintf("%s/out.json", dir), *record = kvt_read(o);
	cr_expect_null(strstr(record, "HOSTILE"));
	cJSON *j = kvt_record(o);
	cr_expect_not_null(j, "the record is JSON");
	cJSON_Delete(j);
	free(record);
	free(o);
	free(out);
	free(err);
}

/* Landlock refuses the open; the plugin reports it (exit 2). */
static void expect_refused_open(const char *plugin, const char *path)
{
	if (!landlock_abi())
		cr_skip_test("this kernel has no Landlock");
	char *extra = kv_xasprintf("params = { path = \"%s\"; };", path), *err = NULL;
	int rc = run_hostile(plugin, extra, NULL, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(strstr(err, "criterion 'h' (plugin "), "%s", err);
	cr_expect(strstr(err, "Permission denied"), "%s", err);
	cr_expect_not(output_written());
	free(extra);
	free(err);
}

/* The first object anywhere in j with a member `key`, depth first; NULL if none. */
static const cJSON *find_holder(const cJSON *j, const char *key)
{
	if (cJSON_IsObject(j) && cJSON_GetObjectItem(j, key))
		return j;
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
		const cJSON *found = find_holder(c, key);
		if (found)
			return found;
	}
	return NULL;
}

/* An input of several times the core's buffers, read slowly in pieces
 * that divide no page, arrives whole: the plugin's FNV-1a of what it read
 * is the file's, worked out here, and the SHA-256 in the record and told
 * to the plugin is sha256sum's. */
Test(isolation, a_large_input_read_slowly_arrives_whole)
{
	size_t n = (size_t)6 << 20;
	unsigned char *bytes = malloc(n);
	uint64_t x = 7, fnv = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		bytes[i] = (unsigned char)(x >> 56);
		fnv = (fnv ^ bytes[i]) * 0x100000001b3ULL;
	}
	char *path = kv_xasprintf("%s/data/big.bin", dir), *cmd = kv_xasprintf("sha256sum %s", path);
	FILE *f = fopen(path, "wb");
	cr_assert(f && fwrite(bytes, 1, n, f) == n && fclose(f) == 0);
	char sha[65] = "", want_fnv[17], *err = NULL;
	FILE *p = popen(cmd, "r");
	cr_assert(p && fscanf(p, "%64s", sha) == 1 && pclose(p) == 0);
	snprintf(want_fnv, sizeof want_fnv, "%016llx", (unsigned long long)fnv);
	int rc = run_hostile("h_slowread", "params = { path = \"big.bin\"; };", NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	char *o = kv_xasprintf("%s/out.json", dir);
	cJSON *record = kvt_record(o);
	cr_assert_not_null(record);
	const cJSON *evidence = find_holder(record, "fnv1a");
	cr_assert_not_null(evidence, "the plugin's evidence is in the record");
	const char *got_fnv = cJSON_GetStringValue(cJSON_GetObjectItem(evidence, "fnv1a"));
	const char *told = cJSON_GetStringValue(cJSON_GetObjectItem(evidence, "sha256"));
	const cJSON *inputs = cJSON_GetObjectItem(record, "inputs"), *big = NULL;
	for (const cJSON *i = inputs ? inputs->child : NULL; i; i = i->next)
		if (strcmp(cJSON_GetObjectItem(i, "path")->valuestring, "big.bin") == 0)
			big = i;
	cr_expect_str_eq(got_fnv ? got_fnv : "(none)", want_fnv);
	cr_assert_not_null(big, "big.bin is among the record's inputs");
	cr_expect_str_eq(cJSON_GetObjectItem(big, "sha256")->valuestring, sha);
	cr_expect_eq(cJSON_GetObjectItem(big, "bytes")->valuedouble, (double)n);
	cr_expect_str_eq(told ? told : "(none)", sha);
	cJSON_Delete(record);
	free(o);
	free(err);
	free(cmd);
	free(path);
	free(bytes);
}

Test(isolation, etc_passwd_is_refused) { expect_refused_open("h_read", "/etc/passwd"); }

Test(isolation, a_file_beside_the_data_directory_is_refused)
{
	kvt_write(dir, "beside.txt", "secret\n");
	char *path = kv_xasprintf("%s/beside.txt", dir);
	expect_refused_open("h_read", path);
	free(path);
}

Test(isolation, nothing_is_written_outside_the_output)
{
	char *path = kv_xasprintf("%s/planted.txt", dir);
	expect_refused_open("h_write", path);
	cr_expect_not(kvt_exists(path));
	free(path);
}

Test(isolation, a_socket_is_refused) { expect_stopped("h_socket", NULL, "system call socket"); }
Test(isolation, running_a_program_is_refused) { expect_stopped("h_exec", NULL, "system call execve"); }

Test(isolation, a_constructor_is_confined_too)
{
	char *err = NULL;
	int rc = run_hostile("h_constructor", NULL, NULL, &err);
	cr_expect_eq(rc, 3, "exit %d: %s", rc, err);
	cr_expect(strstr(err, "r.cfg:15: plugin "), "the criterion's line: %s", err);
	cr_expect(strstr(err, "/h_constructor.so attempted the system call socket"), "%s", err);
	cr_expect_not(output_written());
	free(err);
}

/* Only the core opens inputs: a message that claims a read is malformed. */
Test(isolation, a_forged_input_claim_is_refused)
{
	expect_stopped("h_forge", NULL, "sent a malformed message (a claim to have read a file");
}

/* The data directory is not among the plugin's readable paths either: it
 * gets each input from the core, as a descriptor. */
Test(isolation, a_data_file_opened_by_the_plugin_itself_is_refused)
{
	char *path = kv_xasprintf("%s/data/x.csv", dir);
	expect_refused_open("h_read", path);
	free(path);
}

/* The messages carry no criterion: a plugin reaches its own outcomes only,
 * and only those of the round's teams. */
Test(isolation, a_message_for_another_team_is_refused)
{
	expect_stopped("h_badteam", NULL, "sent a malformed message (a field out of range");
}

Test(isolation, a_message_too_long_is_refused)
{
	expect_stopped("h_garbage", NULL, "sent a malformed message (unknown type or too long)");
}

Test(isolation, no_isolation_runs_in_process)
{
	char *cfg = kv_xasprintf("%s/r.cfg", dir), *o = kv_xasprintf("%s/out.json", dir), *err = NULL;
	char *crit = "    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
		     "      params = { file = \"x.csv\"; }; }";
	char *text = kvt_config(crit, "    advance = 4;");
	kvt_write(dir, "r.cfg", text);
	const char *args[] = {"run", cfg, "-o", o, "--no-isolation", NULL};
	cr_expect_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	cr_expect(strstr(err, "plugins isolated: none (--no-isolation)"), "%s", err);
	free(err);
	const char *isolated[] = {"run", cfg, NULL};
	cr_expect_eq(kvt_exec(isolated, NULL, &err), 0, "%s", err);
	cr_expect(strstr(err, "plugins isolated: process"), "%s", err);
	free(err);
	free(text);
	free(cfg);
	free(o);
}

Test(isolation, limits_are_checked_with_the_config)
{
	char *err = NULL;
	cr_expect_eq(run_hostile("h_print", "timeout = 0;", NULL, &err), 2);
	cr_expect(strstr(err, "r.cfg:15: round.criteria[0].timeout: must be a number of seconds above 0"), "%s", err);
	free(err);
	cr_expect_eq(run_hostile("h_print", "memory_limit = \"12Q\";", NULL, &err), 2);
	cr_expect(strstr(err, "round.criteria[0].memory_limit: must be bytes"), "%s", err);
	free(err);
	cr_expect_eq(run_hostile("h_print", "memory_limit = \"1M\";", NULL, &err), 2);
	cr_expect(strstr(err, "memory_limit: below the least a plugin can load in (64M)"), "%s", err);
	free(err);
}

static int run_table(const char *flag, char **err)
{
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	const char *crit = "    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
			   "      params = { file = \"x.csv\"; }; }";
	char *text = kvt_config(crit, "    advance = 4;");
	kvt_write(dir, "r.cfg", text);
	const char *args[] = {"run", cfg, flag, NULL};
	int rc = kvt_exec(args, NULL, err);
	free(text);
	free(cfg);
	return rc;
}

Test(isolation, require_isolation_runs_only_fully_confined)
{
	char *err = NULL;
	cr_assert_eq(run_table(NULL, &err), 0, "%s", err);
	int full = strstr(err, "landlock ABI") && strstr(err, ", seccomp\n");
	free(err);
	int rc = run_table("--require-isolation", &err);
	if (full)
		cr_expect_eq(rc, 0, "%s", err);
	else
		cr_expect(rc == 3 && strstr(err, "--require-isolation: this system gives plugins only"), "%s", err);
	free(err);
}

Test(isolation, the_manifest_says_which_isolation)
{
	char *cfg = kv_xasprintf("%s/r.cfg", dir), *arc = kv_xasprintf("%s/arc", dir), *err = NULL;
	cr_assert_eq(run_table(NULL, &err), 0, "%s", err);
	free(err);
	const char *args[] = {"archive", cfg, "-o", arc, NULL};
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	char *man = kv_xasprintf("%s/manifest.json", arc), *text = kvt_read(man);
	cr_expect(strstr(text, "\"isolation\": \"process"), "%s", text);
	free(text);
	free(man);
	free(err);
	kvt_rmtree(arc);
	const char *off[] = {"archive", cfg, "-o", arc, "--no-isolation", NULL};
	cr_assert_eq(kvt_exec(off, NULL, &err), 0, "%s", err);
	man = kv_xasprintf("%s/manifest.json", arc);
	text = kvt_read(man);
	cr_expect(strstr(text, "\"isolation\": \"none (--no-isolation)\""), "%s", text);
	free(text);
	free(man);
	free(err);
	free(cfg);
	free(arc);
}

/* The core answers a child on the message socket.  A child that already
 * closed its end (it died, or ended at once after a request) makes that
 * answer an error, not a SIGPIPE: SIGPIPE's default action here would end
 * the core, as it did under the wire fuzzer, one answer in eight. */
Test(isolation, an_answer_to_a_child_that_is_gone_is_an_error_not_a_signal)
{
	cr_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	for (int pass = -1; pass <= 0; pass++) { /* without, then with a descriptor */
		struct kv_buf m;
		kv_wire_begin(&m, KV_MSG_OPEN);
		kv_wire_u64(&m, 0);
		errno = 0;
		cr_expect_eq(kv_wire_send_fd(sv[0], &m, pass < 0 ? -1 : STDIN_FILENO), -1);
		cr_expect_eq(errno, EPIPE);
	}
	close(sv[0]);
}
