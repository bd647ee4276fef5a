/* Units of the core: the CSV/JSONL reader, number formatting, hints, JSON
 * error positions, the random streams, config overrides, evidence sets, JSON
 * differences. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "jsondoc.h"
#include "jsonw.h"
#include "publish.h"
#include "rng.h"
#include "run.h"
#include "support.h"
#include "table.h"
#include "value.h"

static char *kv_memdup(const char *p, size_t n)
{
	char *q = kv_xmalloc(n + 1);
	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

static struct kv_table *table_of(const char *path, const char *text, struct kv_error *err)
{
	memset(err, 0, sizeof *err);
	return kv_table_new(path, kv_xstrdup(text), strlen(text), err);
}

Test(table, csv_bom_crlf_quotes_and_newlines)
{
	struct kv_error err;
	const char *text = "\xEF\xBB\xBF" "expert,team,score,comment\r\n"
			   "\xEA\xB9\x80\xEC\xB2\xA0\xEC\x88\x98,lg,9,\"good, \"\"solid\"\"\r\nwork\"\r\n"
			   "e2,skt,7,\r\n";
	struct kv_table *t = table_of("sheet.csv", text, &err);
	cr_assert(t, "%s", err.msg);
	int expert = kv_table_column(t, "expert"), comment = kv_table_column(t, "comment");
	cr_assert_eq(expert, 0, "the BOM must not stick to the first header");
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_str_eq(kv_table_field(t, expert), "\xEA\xB9\x80\xEC\xB2\xA0\xEC\x88\x98");
	cr_expect_str_eq(kv_table_field(t, comment), "good, \"solid\"\r\nwork");
	cr_expect_eq(kv_table_line(t), 2);
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_line(t), 4, "the quoted newline moves the line count");
	cr_expect_str_eq(kv_table_field(t, comment), "");
	cr_expect_eq(kv_table_next(t, &err), 0);
	kv_table_free(t);
}

Test(table, csv_missing_trailing_fields_are_empty)
{
	struct kv_error err;
	struct kv_table *t = table_of("x.csv", "a,b,c\n1,2\n", &err);
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_str_eq(kv_table_field(t, 2), "");
	kv_table_free(t);
}

Test(table, csv_unterminated_quote)
{
	struct kv_error err;
	struct kv_table *t = table_of("x.csv", "a,b\n1,\"open\n2,3\n", &err);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "x.csv:2: unterminated quoted field");
	kv_table_free(t);
}

Test(table, csv_too_many_fields)
{
	struct kv_error err;
	struct kv_table *t = table_of("x.csv", "a,b\n1,2,3\n", &err);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "x.csv:2: 3 fields but the header has 2");
	kv_table_free(t);
}

Test(table, csv_stray_quote)
{
	struct kv_error err;
	struct kv_table *t = table_of("x.csv", "a,b\n1,2\"x\n", &err);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect(strstr(err.msg, "x.csv:2: stray quote") != NULL, "%s", err.msg);
	kv_table_free(t);
}

Test(table, csv_empty_file)
{
	struct kv_error err;
	cr_expect_null(table_of("x.csv", "", &err));
	cr_expect_str_eq(err.msg, "x.csv: empty file (no header row)");
}

Test(table, jsonl_fields_by_name)
{
	struct kv_error err;
	struct kv_table *t = table_of("v.jsonl", "{\"team\":\"lg\",\"score\":4,\"ok\":true}\n\n{\"team\":\"skt\",\"score\":2.5}\n", &err);
	cr_assert(t);
	int team = kv_table_column(t, "team"), score = kv_table_column(t, "score"), ok = kv_table_column(t, "ok");
	cr_assert_eq(kv_table_next(t, &err), 1);
	const char *a = kv_table_field(t, team), *b = kv_table_field(t, score);
	cr_expect_str_eq(a, "lg");
	cr_expect_str_eq(b, "4");
	cr_expect_str_eq(kv_table_field(t, ok), "1");
	cr_expect_eq(kv_table_column(t, "absent"), -1, "columns are the first record's keys");
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_line(t), 3);
	cr_expect_str_eq(kv_table_field(t, score), "2.5");
	cr_expect_str_eq(kv_table_field(t, ok), "");
	cr_expect_eq(kv_table_next(t, &err), 0);
	kv_table_free(t);
}

/* One object per line: anything after it on the line but spaces is an
 * error, not ignored (a pasted second record, a stray bracket). */
Test(table, jsonl_text_after_the_object)
{
	static const char *const lines[] = {"{\"a\":1} {\"a\":2}\n", "{\"a\":1}]\n", "{\"a\":1},\n"};
	for (size_t i = 0; i < 3; i++) {
		struct kv_error err;
		char *text = kv_xasprintf("{\"a\":0}\n%s{\"a\":3} \t\r\n", lines[i]);
		struct kv_table *t = table_of("v.jsonl", text, &err);
		cr_assert_eq(kv_table_next(t, &err), 1);
		cr_expect_eq(kv_table_next(t, &err), -1, "accepted: %s", lines[i]);
		cr_expect_str_eq(err.msg, "v.jsonl:2: text after the JSON object");
		kv_table_free(t);
		free(text);
	}
	struct kv_error err;
	struct kv_table *t = table_of("v.jsonl", "{\"a\":1}  \r\n{\"a\":2}", &err);
	cr_expect_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_next(t, &err), 1, "trailing spaces and CR are fine");
	cr_expect_eq(kv_table_next(t, &err), 0);
	kv_table_free(t);
}

/* cJSON places an error at the end of the line on its last byte. */
Test(table, jsonl_malformed_line)
{
	struct kv_error err;
	struct kv_table *t = table_of("v.jsonl", "{\"a\":1}\n{\"a\":\n", &err);
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "v.jsonl:2: column 5: not valid JSON (or nested too deeply)");
	kv_table_free(t);
}

/* A broken first record is reported as itself, with its line and what is
 * wrong, not later as a column the plugin cannot find. */
Test(table, jsonl_broken_first_record)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "\n{\"team\": NaN}\n", "s1.jsonl:2: column 10: not valid JSON (or nested too deeply)" },
		{ "garbage\n", "s1.jsonl:1: column 1: not valid JSON (or nested too deeply)" },
		{ "[1, 2]\n", "s1.jsonl:1: not a JSON object" },
		{ "{\"team\": \"a\", \"team\": \"b\"}\n", "s1.jsonl:1: key 'team' given twice" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct kv_error err;
		cr_expect_null(table_of("s1.jsonl", cases[i].text, &err), "accepted: %s", cases[i].text);
		cr_expect_str_eq(err.msg, cases[i].msg);
	}
	/* Nested beyond the parser's limit: an error with the line, not a crash. */
	struct kv_buf deep = {0};
	kv_buf_puts(&deep, "{\"a\":");
	for (int i = 0; i < 5000; i++)
		kv_buf_puts(&deep, "[");
	struct kv_error err;
	cr_expect_null(table_of("s1.jsonl", deep.data, &err));
	cr_expect(strstr(err.msg, "s1.jsonl:1: column "), "%s", err.msg);
	kv_buf_free(&deep);
}

/* A NUL would end a field early for every reader (C strings): refused with
 * the line and field, whether a raw byte or a JSON escape. */
Test(table, nul_characters_are_refused)
{
	struct kv_error err;
	static const char csv[] = "team,value,normalized\na\0zzz,1\0garbage,0.5\0.9\n";
	memset(&err, 0, sizeof err);
	struct kv_table *t = kv_table_new("x.csv", kv_memdup(csv, sizeof csv - 1), sizeof csv - 1, &err);
	cr_assert_not_null(t);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "x.csv:2: field 1: a NUL byte (0x00) in the text");
	kv_table_free(t);

	static const char quoted[] = "team,value\n\"a\0\",1\n";
	memset(&err, 0, sizeof err);
	t = kv_table_new("x.csv", kv_memdup(quoted, sizeof quoted - 1), sizeof quoted - 1, &err);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "x.csv:2: field 1: a NUL byte (0x00) in the text");
	kv_table_free(t);

	cr_expect_null(table_of("s.jsonl", "{\"team\":\"a\\u0000zz\"}\n", &err));
	cr_expect_str_eq(err.msg, "s.jsonl:1: column 11: a NUL character (\\u0000)");
	/* An escaped backslash before u0000 is text, not a NUL. */
	t = table_of("s.jsonl", "{\"team\":\"a\\\\u0000\"}\n", &err);
	cr_assert_not_null(t, "%s", err.msg);
	cr_expect_eq(kv_table_next(t, &err), 1);
	cr_expect_str_eq(kv_table_field(t, kv_table_column(t, "team")), "a\\u0000");
	kv_table_free(t);

	static const char raw[] = "{\"a\":1}\n{\"a\":\"x\0\"}\n";
	memset(&err, 0, sizeof err);
	t = kv_table_new("s.jsonl", kv_memdup(raw, sizeof raw - 1), sizeof raw - 1, &err);
	cr_expect_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "s.jsonl:2: column 8: a NUL character (a 0x00 byte)");
	kv_table_free(t);
}

/* A column named twice would be read as its first occurrence. */
Test(table, csv_column_named_twice)
{
	struct kv_error err;
	cr_expect_null(table_of("x.csv", "team,value,note,value\na,1,n,2\n", &err));
	cr_expect_str_eq(err.msg, "x.csv:1: column 'value' named twice (fields 2 and 4)");
}

Test(table, jsonl_key_given_twice_in_a_later_record)
{
	struct kv_error err;
	struct kv_table *t = table_of("v.jsonl", "{\"a\":1}\n{\"a\":2,\"a\":3}\n", &err);
	cr_assert_eq(kv_table_next(t, &err), 1);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "v.jsonl:2: key 'a' given twice");
	kv_table_free(t);
}

Test(numbers, shortest_round_trip)
{
	char s[32];
	kv_format_double(10, s);
	cr_expect_str_eq(s, "10");
	kv_format_double(0.1, s);
	cr_expect_str_eq(s, "0.1");
	kv_format_double(9.5 + 16 + 10 + 30.8 + 23.9, s);
	cr_expect_str_eq(s, "90.19999999999999");
	kv_format_double(-0.0, s);
	cr_expect_str_eq(s, "0");
	kv_format_double(1e-7, s);
	cr_expect_str_eq(s, "1e-07");
	kv_format_double(1e300, s);
	cr_expect_str_eq(s, "1e+300");
}

Test(numbers, every_double_reads_back)
{
	struct kv_rng r;
	kv_rng_derive(1, "numbers", "", 0, &r);
	char s[32];
	for (int i = 0; i < 100000; i++) {
		uint64_t bits = kv_rng_next(&r);
		double x;
		memcpy(&x, &bits, sizeof x);
		if (!isfinite(x))
			continue;
		kv_format_double(x, s);
		cr_assert(strtod(s, NULL) == x || (x == 0 && strcmp(s, "0") == 0), "%s does not read back", s);
	}
}

Test(hints, closest_candidate)
{
	const char *names[] = {"eliminate_lowest", "advance", "min_total"};
	cr_expect_str_eq(kv_closest("eliminate_lowset", names, 3), "eliminate_lowest");
	cr_expect_null(kv_closest("zzz", names, 3));
}

Test(json, syntax_error_position)
{
	struct kv_error err = {0};
	const char *text = "{\n  \"a\": 1,\n  \"b\": ]\n}";
	cr_expect_null(kv_value_parse_json(text, strlen(text), "m.json", &err));
	cr_expect_str_eq(err.msg, "m.json:3:8: JSON syntax error");
}

Test(json, truncated_file)
{
	struct kv_error err = {0};
	const char *text = "{\"a\": [1, 2";
	cr_expect_null(kv_value_parse_json(text, strlen(text), "m.json", &err));
	cr_expect(strstr(err.msg, "m.json:1:") == err.msg && strstr(err.msg, "truncated"), "%s", err.msg);
}

Test(json, trailing_garbage_refused)
{
	struct kv_error err = {0};
	const char *text = "{\"a\": 1} x";
	cr_expect_null(kv_value_parse_json(text, strlen(text), "m.json", &err));
}

Test(rng, matches_the_independent_reference)
{
	char *path = kvt_src("tests/data/rng/reference.txt");
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	unsigned long long seed, rep, want[5];
	char crit[64], purpose[64];
	int rows = 0;
	while (fscanf(f, "%llu %63s %63s %llu %llu %llu %llu %llu %llu", &seed, crit, purpose, &rep,
		      &want[0], &want[1], &want[2], &want[3], &want[4]) == 9) {
		struct kv_rng r;
		kv_rng_derive(seed, crit, strcmp(purpose, "-") == 0 ? "" : purpose, rep, &r);
		for (int i = 0; i < 5; i++)
			cr_expect_eq(kv_rng_next(&r), (uint64_t)want[i], "%s/%s/%llu output %d", crit, purpose, rep, i);
		rows++;
	}
	fclose(f);
	free(path);
	cr_expect_eq(rows, 3);
}

Test(rng, below_stays_in_range)
{
	struct kv_rng r;
	kv_rng_derive(5, "c", "p", 0, &r);
	int seen[7] = {0};
	for (int i = 0; i < 7000; i++)
		seen[kv_rng_below(&r, 7)]++;
	for (int i = 0; i < 7; i++)
		cr_expect(seen[i] > 800 && seen[i] < 1200, "bucket %d: %d", i, seen[i]);
	double u = kv_rng_uniform(&r);
	cr_expect(u >= 0 && u < 1);
}

Test(numbers, half_up_on_the_decimal_form)
{
	char s[48];
	kv_format_half_up(11.85, 1, s, sizeof s);
	cr_expect_str_eq(s, "11.9", "printf would give 11.8");
	kv_format_half_up(7.75, 1, s, sizeof s);
	cr_expect_str_eq(s, "7.8");
	kv_format_half_up(9.96, 1, s, sizeof s);
	cr_expect_str_eq(s, "10.0");
	kv_format_half_up(99.999, 2, s, sizeof s);
	cr_expect_str_eq(s, "100.00");
	kv_format_half_up(-2.345, 2, s, sizeof s);
	cr_expect_str_eq(s, "-2.35");
	kv_format_half_up(3, 2, s, sizeof s);
	cr_expect_str_eq(s, "3.00");
	kv_format_half_up(0.05, 1, s, sizeof s);
	cr_expect_str_eq(s, "0.1");
	kv_format_half_up(28.75, 1, s, sizeof s);
	cr_expect_str_eq(s, "28.8", "the official rounding of the stage-2 expert average");
}

/* Well-formed UTF-8 only: the overlong, surrogate, out-of-range and cut
 * forms are each refused at their first byte (RFC 3629, section 4). */
Test(utf8, well_formed_only)
{
	cr_expect_eq(kv_utf8_invalid("plain", 5), -1);
	cr_expect_eq(kv_utf8_invalid("\xed\x95\x9c\xea\xb8\x80", 6), -1);   /* 한글 */
	cr_expect_eq(kv_utf8_invalid("\xf0\x9f\x98\x80", 4), -1);           /* U+1F600 */
	cr_expect_eq(kv_utf8_invalid("a\xff", 2), 1);
	cr_expect_eq(kv_utf8_invalid("a\x80" "b", 3), 1);                   /* stray continuation */
	cr_expect_eq(kv_utf8_invalid("\xc0\xaf", 2), 0);                     /* overlong '/' */
	cr_expect_eq(kv_utf8_invalid("\xe0\x80\xaf", 3), 0);                 /* overlong */
	cr_expect_eq(kv_utf8_invalid("\xed\xa0\x80", 3), 0);                 /* surrogate U+D800 */
	cr_expect_eq(kv_utf8_invalid("\xf4\x90\x80\x80", 4), 0);             /* above U+10FFFF */
	cr_expect_eq(kv_utf8_invalid("ab\xed\x95", 4), 2);                    /* cut short */
}

/* The writer's last line of defence: a byte that is still not UTF-8
 * becomes U+FFFD, so a record is always JSON. */
Test(utf8, the_json_writer_never_writes_a_bad_byte)
{
	struct kv_buf b = {0};
	kv_json_quote(&b, "a\xff\xed\x95\x9c");
	cr_expect_str_eq(b.data, "\"a\xef\xbf\xbd\xed\x95\x9c\"");
	kv_buf_free(&b);
}

/* A value quoted from a data file reaches the terminal as text: a byte that
 * is not UTF-8 and a control character (an escape sequence could recolour
 * or retitle the terminal) print as \xNN; Hangul and tabs as they are. */
Test(utf8, messages_print_as_text)
{
	struct kv_error err = {0};
	kv_fail(&err, KV_EXIT_INPUT, "model 'm\xff\xfe' \x1b]0;owned\x07\t\xed\x95\x9c\x7f\r\nsecond line");
	char *printed = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&printed, &len);
	kv_error_print(&err, f);
	struct kv_error one = {0};
	kv_fail(&one, KV_EXIT_INPUT, "cut \xed\x95");
	kv_error_add(&err, &one);
	kv_error_print(&err, f);
	fclose(f);
	cr_expect_str_eq(printed, "kaieval: model 'm\\xFF\\xFE' \\x1B]0;owned\\x07\t\xed\x95\x9c\\x7F\\x0D\nsecond line\n"
				  "kaieval: model 'm\\xFF\\xFE' \\x1B]0;owned\\x07\t\xed\x95\x9c\\x7F\\x0D\n"
				  "kaieval: second line\n"
				  "kaieval: cut \\xED\\x95\n");
	free(printed);
}

Test(table, fields_must_be_utf8)
{
	struct kv_error err;
	struct kv_table *t = table_of("x.csv", "team,note\na,caf\xe9\n", &err);
	cr_assert_not_null(t);
	cr_expect_eq(kv_table_next(t, &err), -1);
	cr_expect_str_eq(err.msg, "x.csv:2: field 2: not valid UTF-8 (byte 0xe9)");
	kv_table_free(t);
	cr_expect_null(table_of("s.jsonl", "{\"team\":\"a\xff\"}\n", &err));
	cr_expect_str_eq(err.msg, "s.jsonl:1: column 11: not valid UTF-8 (byte 0xff)");
	t = table_of("x.csv", "team,note\na,\xed\x95\x9c\xea\xb8\x80\n", &err);
	cr_assert_not_null(t);
	cr_expect_eq(kv_table_next(t, &err), 1, "%s", err.msg);
	kv_table_free(t);
}

/* A criterion of 200 teams sets 80,000 matrix entries: every key is found
 * again, a key set twice keeps its first place and takes the new value, and
 * the order is the order keys were first set (the record's). */
Test(units, evidence_keeps_first_set_order_and_finds_every_key)
{
	struct kv_evidence ev = {0};
	enum { N = 80000 };
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "matrix.%d.%d", i / 200, i % 200);
		kv_evidence_set(&ev, key, 1, i, NULL);
	}
	kv_evidence_set(&ev, "matrix.3.7", 0, 0, "again");
	kv_evidence_set(&ev, "note", 0, 0, NULL);
	cr_assert_eq(ev.count, N + 1);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "matrix.%d.%d", i / 200, i % 200);
		cr_assert_str_eq(ev.items[i].key, key);
		const struct kv_evidence_item *it = kv_evidence_get(&ev, key);
		cr_assert_eq(it, &ev.items[i], "%s", key);
		if (i != 3 * 200 + 7)
			cr_assert(it->is_num && it->num == i);
	}
	const struct kv_evidence_item *again = kv_evidence_get(&ev, "matrix.3.7");
	cr_assert(!again->is_num);
	cr_assert_str_eq(again->str, "again");
	cr_assert_null(ev.items[N].str); /* a null value: neither number nor string */
	cr_assert_null(kv_evidence_get(&ev, "matrix.400.0"));
	kv_evidence_free(&ev);
	cr_assert_eq(ev.count, 0);
}

/* The member-by-member comparison behind diff and verify: members matched
 * by name among 50,000, elements of arrays of objects by their id, other
 * arrays by position; each of a's members is compared with the first of
 * b's with its name; a's order first, then what only b has. */
Test(units, json_diff_matches_members_by_name_and_elements_by_id)
{
	struct kv_buf a = {0}, b = {0}, out = {0};
	kv_buf_puts(&a, "{\"e\":{");
	kv_buf_puts(&b, "{\"e\":{");
	for (int i = 0; i < 50000; i++) {
		kv_buf_printf(&a, "%s\"k%d\":%d", i ? "," : "", i, i);
		if (i != 777) /* k49222 is not in b */
			kv_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", 49999 - i, i == 3 ? 49999 - 3 + 1 : 49999 - i);
	}
	kv_buf_puts(&a, ",\"dup\":1,\"dup\":2},\"t\":[{\"id\":\"x\",\"v\":1},{\"id\":\"y\",\"v\":2}],"
		       "\"p\":[1,2,3]}");
	kv_buf_puts(&b, ",\"dup\":1,\"new\":true},\"t\":[{\"id\":\"y\",\"v\":2},{\"id\":\"x\",\"v\":5}],"
		       "\"p\":[1,2]}");
	struct kv_error err = {0};
	cJSON *ja = kv_json_parse(a.data, a.len, "a", &err), *jb = kv_json_parse(b.data, b.len, "b", &err);
	cr_assert(ja && jb, "%s", err.msg);
	size_t n = kv_json_diff(ja, jb, "", &out);
	cr_expect_str_eq(out.data, "e.k49222: 49222 -> (absent)\n"
				   "e.k49996: 49996 -> 49997\n"
				   "e.dup: 2 -> 1\n"
				   "e.new: (absent) -> true\n"
				   "t[x].v: 1 -> 5\n"
				   "p[2]: 3 -> (absent)\n");
	cr_expect_eq(n, 6);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	kv_buf_free(&a);
	kv_buf_free(&b);
	kv_buf_free(&out);
}
