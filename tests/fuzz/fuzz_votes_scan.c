/* libFuzzer harness for the battle scanner (plugins/votes/scan.c).
 *
 * The scanner reads a battle file block by block; a record cut by a block's
 * end is re-read once the next block has arrived, and with AVX2 or AVX-512
 * a record's layout is read from a 256-byte window.  Whatever the bytes, the records it
 * returns and the error it stops at (message, line, record) must not depend
 * on where the blocks end, on the vector level, nor on whether the fast
 * paths (the learned layout, the fast record) read a record or the general
 * reader does.  So each input is read whole by the general reader alone,
 * then whole and in pieces (sizes taken from its first byte), plainly and,
 * where the processor has them, with AVX2 and AVX-512, and the readings are
 * compared.
 * Every buffer ends exactly where the scanner is told the bytes end, so the
 * sanitizers see any read past it.  The same bytes are then read as a CSV
 * table (scan_csv.c), whole and in the same pieces, and the two readings
 * compared.  Built two ways (tests/fuzz/README.md):
 * with clang -fsanitize=fuzzer, or with replay.c as a plain program. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/votes/scan.h"
#include "simd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one reading saw, as text: each record's fields, then how it ended. */
struct reading {
	char *text;
	size_t len, cap;
};

static void put(struct reading *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = 2 * (r->len + n + 1);
		if (!(r->text = realloc(r->text, r->cap)))
			abort();
	}
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static void put_str(struct reading *r, const struct votes_str *s)
{
	char n[32];
	snprintf(n, sizeof n, "|%zu:", s->n);
	put(r, n, strlen(n));
	if (s->n)
		put(r, s->s, s->n);
}

static void put_record(struct reading *r, const struct votes_battle *b)
{
	char head[96];
	snprintf(head, sizeof head, "\nrecord %llu line %ld q %d anony %d", (unsigned long long)b->record, b->line,
		 b->has_question, b->anony);
	put(r, head, strlen(head));
	put_str(r, &b->model_a);
	put_str(r, &b->model_b);
	put_str(r, &b->winner);
	put_str(r, &b->judge);
	if (b->has_question)
		put_str(r, &b->question);
}

static void put_end(struct reading *r, const struct votes_scan *s, int rc)
{
	char end[512];
	if (rc == VOTES_SCAN_ERROR)
		snprintf(end, sizeof end, "\nerror line %ld record %llu field %s: %s", s->err_line,
			 (unsigned long long)s->err_record, s->field ? s->field : "-", s->msg);
	else
		snprintf(end, sizeof end, "\nend after %llu", (unsigned long long)s->records);
	put(r, end, strlen(end));
}

/* Read text in pieces of `piece` bytes (the unread tail moves in front of
 * the next piece, as the plugin's reader does), each time in a buffer of
 * exactly the bytes given. */
enum mode { PLAIN, GENERAL, CSV };

/* level: the window's vectors (enum kv_simd; 0: none) for PLAIN. */
static void read_pieces(const uint8_t *text, size_t len, size_t piece, enum mode mode, int level,
			struct reading *out)
{
	struct votes_scan s;
	struct votes_battle b;
	char *buf = malloc(1);
	size_t have = 0, fed = 0;
	const char *p = buf;
	int rc;
	votes_scan_init(&s);
	s.wide = mode == PLAIN ? level : 0;
	s.general_only = mode == GENERAL;
	s.csv = mode == CSV;
	for (;;) {
		rc = votes_scan_next(&s, &p, buf + have, fed == len, &b);
		if (rc == VOTES_SCAN_RECORD) {
			put_record(out, &b);
			continue;
		}
		if (rc != VOTES_SCAN_MORE)
			break;
		if (fed == len)
			abort(); /* MORE at the end of the bytes: the scanner would wait forever */
		size_t tail = have - (size_t)(p - buf), more = len - fed < piece ? len - fed : piece;
		char *next = malloc(tail + more ? tail + more : 1);
		if (!next)
			abort();
		memcpy(next, p, tail);
		memcpy(next + tail, text + fed, more);
		free(buf);
		buf = next;
		fed += more;
		have = tail + more;
		p = buf;
	}
	put_end(out, &s, rc);
	votes_scan_free(&s);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const size_t pieces[] = {1, 2, 3, 5, 16, 63, 64, 255, 256, 257, 1000, 4096};
	size_t piece = pieces[data[0] % (sizeof pieces / sizeof pieces[0])];
	const uint8_t *text = data + 1;
	size_t len = size - 1;
	int best = (int)kv_simd_detect();
	struct reading whole = {0};
	read_pieces(text, len, len ? len : 1, GENERAL, 0, &whole);
	for (int level = 0; level <= best; level++) {
		struct reading whole_level = {0}, cut = {0};
		read_pieces(text, len, len ? len : 1, PLAIN, level, &whole_level);
		read_pieces(text, len, piece, PLAIN, level, &cut);
		if (strcmp(whole.text, whole_level.text) != 0 || strcmp(whole.text, cut.text) != 0) {
			fprintf(stderr, "readings differ (pieces of %zu, %s):\n--- whole, general reader:%s\n"
				"--- whole:%s\n--- in pieces:%s\n", piece, kv_simd_name((enum kv_simd)level), whole.text,
				whole_level.text, cut.text);
			abort();
		}
		free(whole_level.text);
		free(cut.text);
	}
	free(whole.text);
	struct reading csv_whole = {0}, csv_cut = {0}; /* the same bytes as a CSV table */
	read_pieces(text, len, len ? len : 1, CSV, 0, &csv_whole);
	read_pieces(text, len, piece, CSV, 0, &csv_cut);
	if (strcmp(csv_whole.text, csv_cut.text) != 0) {
		fprintf(stderr, "CSV readings differ (pieces of %zu):\n--- whole:%s\n--- in pieces:%s\n", piece,
			csv_whole.text, csv_cut.text);
		abort();
	}
	free(csv_whole.text);
	free(csv_cut.text);
	return 0;
}
