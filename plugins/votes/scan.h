/* The battle scanner: a hand-written JSON reader for Chatbot Arena battle
 * files (one JSON array of objects, or JSONL), fed block by block, and
 * its sibling for the same battles as a CSV table (scan_csv.c).
 *
 * It reads only the fields the plugin needs and skips every other value
 * (validating its syntax), so a 10-million-record file costs one pass over
 * the bytes.  A record cut by the end of a block is re-read from its start
 * once the next block has arrived (VOTES_SCAN_MORE). */
#ifndef KV_VOTES_SCAN_H
#define KV_VOTES_SCAN_H

#include "votes.h"

enum votes_scan_rc {
	VOTES_SCAN_RECORD = 1,
	VOTES_SCAN_END = 0,
	VOTES_SCAN_ERROR = -1,
	VOTES_SCAN_MORE = -2     /* the bytes end inside a record: feed more */
};

struct votes_scratch { char *s; size_t n, cap; };

/* The layout of a record read by the fast path: its text between
 * values (keys, separators, whitespace, the keys of nested objects) and
 * each value's field and nesting depth.  Arena files repeat one layout, so
 * the next record is checked against it by comparing bytes instead of
 * parsing keys. */
#define VOTES_SHAPE_VALUES 96
#define VOTES_SHAPE_TEXT 4096     /* bytes of text in all */
struct votes_shape {
	int values;               /* 0: no layout learned */
	int has_question;
	int newlines;             /* in the text (pretty-printed records) */
	unsigned char field[VOTES_SHAPE_VALUES], depth[VOTES_SHAPE_VALUES];
	unsigned short at[VOTES_SHAPE_VALUES + 1], len[VOTES_SHAPE_VALUES + 1];
	char text[VOTES_SHAPE_TEXT + 32]; /* + 32: same_text reads 32 bytes at a time */
};

enum votes_phase { PH_START, PH_ARRAY_FIRST, PH_ARRAY_NEXT, PH_ARRAY_DONE, PH_JSONL };

struct votes_scan {
	enum votes_phase phase;
	long line;                /* line of the next unread byte */
	long last_end_line;       /* JSONL: line where the last record ended */
	uint64_t records;
	int oom;
	/* the error of VOTES_SCAN_ERROR */
	char msg[256];
	const char *field;        /* field the error is about, or NULL */
	long err_line;
	uint64_t err_record;       /* 1-based record the error is in, 0 outside records */
	/* unescaped copies of fields that held escapes (index: enum field) */
	struct votes_scratch scratch[8];
	struct votes_shape shape[2];
	int recent;               /* the shape that read the last record by layout */
	int tried, misses;        /* records, and those the layouts missed (scan.c) */
	int resting;              /* records left to read by the general reader */
	int wide;                 /* read layouts by a window of AVX2 or AVX-512 (enum kv_simd) */
	int general_only;         /* tests: every record by the general reader */
	/* CSV (scan_csv.c): the file is a table; its columns' fields, from the header */
	int csv;
	unsigned char *csv_column;
	size_t csv_columns;
};

void votes_scan_init(struct votes_scan *s);
void votes_scan_free(struct votes_scan *s);
/* Read the next record from [*p, end).  eof: no bytes follow `end`.  On
 * RECORD *p moves past it; on MORE *p stays at the unfinished step's start
 * (copy [*p, end) in front of the next bytes and call again). */
int votes_scan_next(struct votes_scan *s, const char **p, const char *end, int eof,
		    struct votes_battle *b);
/* The bytes of a UTF-8 byte-order mark at p: 3, 0 (none), or -1 (the
 * bytes end inside what may be one: feed more). */
int votes_bom(const char *p, const char *end, int eof);
/* votes_scan_next for a file in CSV (s->csv; votes_scan_next calls it). */
int votes_scan_csv_next(struct votes_scan *s, const char **p, const char *end, int eof,
			struct votes_battle *b);

#endif
