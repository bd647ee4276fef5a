/* libFuzzer harness for the record reader (core/record.c) and the commands
 * that read a record: explain, diff, publish, report.
 *
 * The bytes are parsed and read into the record model.  A refusal must have
 * exit status 2 and name the file.  A record that reads is then put through
 * every consumer: written again (and that writing must read back to the
 * same bytes), published at each level as text and CSV, explained, diffed
 * with itself (no decision may change), rendered as the HTML report, and
 * its margins and reasons computed.  The sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README-record.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz_support.h"
#include "publish.h"
#include "record.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "result.json"

static void check_refusal(const struct kv_error *err, const char *path)
{
	if (err->status != KV_EXIT_INPUT || strncmp(err->msg, path, strlen(path)) != 0)
		abort();
}

/* What the record writes reads back, and writes the same bytes again. */
static void check_round_trip(const struct kv_record *rec)
{
	struct kv_buf a = {0}, b = {0};
	struct kv_record *again = fuzz_read_back(rec, &a);
	kv_record_write(again, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	kv_record_free(again);
	kv_buf_free(&a);
	kv_buf_free(&b);
}

static void check_publish(const struct kv_record *rec, const char *path, FILE *out)
{
	static const char *const levels[] = {"top", "gap", "full"};
	struct kv_digits none, three, mixed;
	struct kv_error err = {0};
	kv_digits_all(&none, 0);
	kv_digits_all(&three, 3);
	if (kv_digits_parse("2,top=1,average.group=1,points.total=0", &mixed, &err) != 0)
		abort();
	for (size_t l = 0; l < 3; l++)
		for (int csv = 0; csv <= 1; csv++) {
			kv_publish_tables(rec, levels[l], csv, l == 2 ? &none : &mixed, out);
			if (kv_publish(path, levels[l], csv, &three, out) != 0)
				abort();
		}
}

static void check_teams(const struct kv_record *rec)
{
	struct kv_buf none = {0};
	if (kv_decision_diff(rec, rec, &none) != 0)
		abort();
	kv_buf_free(&none);
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *t = &rec->teams[i];
		double margin;
		const struct kv_rec_team *against = NULL;
		if (kv_rec_margin(rec, t, &margin, &against) && (!against || kv_rec_team_index(rec, against->team.id) < 0))
			abort();
		free(kv_rec_reason(rec, t));
		if (kv_rec_team_index(rec, t->team.id) < 0)
			abort();
	}
}

static void check_consumers(struct kv_record *rec, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		abort();
	check_publish(rec, path, out);
	if (kv_explain(path, NULL, out) != 0 ||
	    (rec->team_count && kv_explain(path, rec->teams[0].team.id, out) != 0))
		abort();
	if (kv_diff(path, path, 0, out) != 0 || kv_diff(path, path, 1, out) != 0)
		abort();
	fclose(out);
	free(text);
	struct kv_buf html = {0};
	kv_report_html(rec, NULL, &html);
	kv_buf_free(&html);
	check_teams(rec);
	check_round_trip(rec);
	kv_record_blank_build(rec);
	check_round_trip(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(NAME, data, size);
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	if (!rec) {
		check_refusal(&err, path);
		return 0;
	}
	check_consumers(rec, path);
	kv_record_free(rec);
	return 0;
}
