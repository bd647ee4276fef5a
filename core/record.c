/* The result record: built from a run, written, read back.  This file is
 * the only one that spells the record's member names; each part's writer
 * and reader sit side by side so that they cannot drift apart. */
#include "record.h"
#include "jsondoc.h"
#include "jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

static char *dup_or_null(const char *s) { return s ? kv_xstrdup(s) : NULL; }

/* --- reasons, kinds, lookups --------------------------------------------- */

/* selection.gate_failure by gate_flag_only, unresolved_tie by keep_ties. */
static const char *const gate_failure_words[] = {"eliminate", "flag", NULL};
static const char *const unresolved_tie_words[] = {"error", "keep", NULL};
static const char *const status_words[] = {"advance", "eliminated", NULL};  /* by enum kv_status_code */

#define GATE_PREFIX "gate:"

char *kv_reason_text(enum kv_reason reason, const char *gate_id)
{
	switch (reason) {
	case KV_REASON_GATE: return kv_xasprintf(GATE_PREFIX "%s", gate_id);
	case KV_REASON_BELOW_MIN_TOTAL: return kv_xstrdup("below_min_total");
	case KV_REASON_LOWEST_TOTAL: return kv_xstrdup("lowest_total");
	case KV_REASON_NONE: break;
	}
	return NULL;
}

char *kv_run_reason(const struct kv_run *run, size_t team)
{
	const struct kv_standing *s = &run->standings[team];
	return kv_reason_text(s->reason, s->reason == KV_REASON_GATE ? run->round->criteria[s->reason_gate].id : NULL);
}

char *kv_rec_reason(const struct kv_record *rec, const struct kv_rec_team *t)
{
	const struct kv_standing *s = &t->standing;
	return kv_reason_text(s->reason, s->reason == KV_REASON_GATE ? rec->criteria[s->reason_gate].id : NULL);
}

const char *kv_kind_name(enum kv_kind k)
{
	return k == KV_KIND_SCORE ? "score" : k == KV_KIND_GATE ? "gate" : "info";
}

const char *kv_status_name(enum kv_status_code s)
{
	return status_words[s == KV_ELIMINATED];
}

long kv_rec_team_index(const struct kv_record *rec, const char *id)
{
	for (size_t i = 0; id && i < rec->team_count; i++)
		if (strcmp(rec->teams[i].team.id, id) == 0)
			return (long)i;
	return -1;
}

long kv_rec_criterion_index(const struct kv_record *rec, const char *id)
{
	for (size_t i = 0; id && i < rec->criterion_count; i++)
		if (strcmp(rec->criteria[i].id, id) == 0)
			return (long)i;
	return -1;
}

static long tie_break_index(const struct kv_selection *sel, const char *key)
{
	for (size_t k = 0; key && k < sel->tie_break_count; k++)
		if (strcmp(sel->tie_break[k], key) == 0)
			return (long)k;
	return -1;
}

/* Groups in the order the record lists them: each at its first criterion. */
static void collect_groups(struct kv_record *rec)
{
	rec->groups = kv_xcalloc(rec->criterion_count, sizeof *rec->groups);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const char *g = rec->criteria[c].group;
		int seen = g == NULL;
		for (size_t i = 0; i < rec->group_count && !seen; i++)
			seen = strcmp(rec->groups[i], g) == 0;
		if (!seen)
			rec->groups[rec->group_count++] = kv_xstrdup(g);
	}
}

/* --- from a run ------------------------------------------------------------ */

/* dst may hold a shallow copy of src's struct: it gets its own items and index. */
static void evidence_copy(struct kv_evidence *dst, const struct kv_evidence *src)
{
	*dst = (struct kv_evidence){0};
	for (size_t i = 0; i < src->count; i++)
		kv_evidence_set(dst, src->items[i].key, src->items[i].is_num, src->items[i].num, src->items[i].str);
}

static int cmp_inputs(const void *a, const void *b)
{
	return strcmp(((const struct kv_rec_input *)a)->path, ((const struct kv_rec_input *)b)->path);
}

static void inputs_from_run(struct kv_record *rec, const struct kv_run *run)
{
	rec->input_count = run->inputs.count;
	rec->inputs = kv_xcalloc(rec->input_count, sizeof *rec->inputs);
	for (size_t i = 0; i < rec->input_count; i++) {
		const struct kv_input_record *in = &run->inputs.records[i];
		rec->inputs[i] = (struct kv_rec_input){kv_xstrdup(in->path), (long long)in->bytes,
						       kv_xstrdup(in->sha256)};
	}
	qsort(rec->inputs, rec->input_count, sizeof *rec->inputs, cmp_inputs);
}

static void warnings_copy(struct kv_warnings *dst, const struct kv_warnings *src)
{
	dst->count = src->count;
	dst->items = src->count ? kv_xcalloc(src->count, sizeof *dst->items) : NULL;
	for (size_t i = 0; i < src->count; i++)
		dst->items[i] = kv_xstrdup(src->items[i]);
}

static void rules_from_run(struct kv_record *rec, const struct kv_run *run)
{
	const struct kv_round *r = run->round;
	rec->criterion_count = r->criterion_count;
	rec->plugins = kv_xcalloc(r->criterion_count, sizeof *rec->plugins);
	rec->criteria = kv_xcalloc(r->criterion_count, sizeof *rec->criteria);
	for (size_t c = 0; c < r->criterion_count; c++) {
		const struct kv_criterion_result *res = &run->results[c];
		const struct kv_plugin *p = res->plugin.desc;
		struct kv_rec_plugin *rp = &rec->plugins[c];
		rp->criterion = kv_xstrdup(res->crit->id);
		rp->plugin = dup_or_null(p->name);
		rp->version = dup_or_null(p->version);
		rp->abi = kv_xasprintf("%u.%u", p->abi_version >> 16, p->abi_version & 0xffff);
		evidence_copy(&rp->evidence, &res->evidence);
		warnings_copy(&rp->warnings, &res->warnings);
		rec->criteria[c] = (struct kv_rec_criterion){
			kv_xstrdup(r->criteria[c].id), kv_xstrdup(p->name), r->criteria[c].kind,
			r->criteria[c].kind == KV_KIND_SCORE ? r->criteria[c].points : NAN,
			dup_or_null(r->criteria[c].group)};
	}
	rec->selection = r->selection;
	rec->selection.tie_break = kv_xcalloc(r->selection.tie_break_count, sizeof(char *));
	for (size_t k = 0; k < r->selection.tie_break_count; k++)
		rec->selection.tie_break[k] = kv_xstrdup(r->selection.tie_break[k]);
	collect_groups(rec);
}

/* One team, at record position; pos maps a round team index to its position. */
static void team_from_run(struct kv_record *rec, const struct kv_run *run, size_t t, const size_t *pos)
{
	const struct kv_round *r = run->round;
	struct kv_rec_team *rt = &rec->teams[pos[t]];
	const struct kv_standing *s = &run->standings[t];
	rt->team = (struct kv_team){kv_xstrdup(r->teams[t].id), dup_or_null(r->teams[t].name),
				    dup_or_null(r->teams[t].model)};
	rt->standing = *s;
	rt->standing.failed_gates = kv_xcalloc(s->failed_count, sizeof(size_t));
	if (s->failed_count)
		memcpy(rt->standing.failed_gates, s->failed_gates, s->failed_count * sizeof(size_t));
	rt->standing.tied_with = kv_xcalloc(s->tied_count, sizeof(size_t));
	for (size_t i = 0; i < s->tied_count; i++)
		rt->standing.tied_with[i] = pos[s->tied_with[i]];
	rt->groups = kv_xcalloc(rec->group_count, sizeof *rt->groups);
	for (size_t g = 0; g < rec->group_count; g++)
		rt->groups[g] = kv_run_group_points(run, t, rec->groups[g]);
	rt->outcomes = kv_xcalloc(r->criterion_count, sizeof *rt->outcomes);
	for (size_t c = 0; c < r->criterion_count; c++) {
		struct kv_team_outcome *o = &rt->outcomes[c];
		*o = run->results[c].teams[t];
		o->unit = kv_xstrdup(o->unit);
		o->has_pass = r->criteria[c].kind == KV_KIND_GATE;
		/* A score's normalized value is part of its record even when unset. */
		o->has_normalized |= r->criteria[c].kind == KV_KIND_SCORE;
		evidence_copy(&o->evidence, &run->results[c].teams[t].evidence);
	}
}

struct kv_record *kv_record_from_run(const struct kv_run *run)
{
	const struct kv_round *r = run->round;
	struct kv_record *rec = kv_xcalloc(1, sizeof *rec);
	rec->version = kv_xstrdup(PACKAGE_VERSION);
	rec->round_id = kv_xstrdup(r->id);
	rec->title = dup_or_null(r->title);
	rec->date = dup_or_null(r->date);
	rec->seed = r->seed;
	rec->config_path = kv_xstrdup(r->config_name);
	rec->config_sha256 = kv_xstrdup(r->config_sha256);
	inputs_from_run(rec, run);
	rules_from_run(rec, run);
	size_t n = r->team_count, *pos = kv_xcalloc(n, sizeof *pos);
	for (size_t i = 0; i < n; i++)
		pos[run->order[i]] = i;
	rec->team_count = n;
	rec->teams = kv_xcalloc(n, sizeof *rec->teams);
	rec->eliminated = kv_xcalloc(n, sizeof *rec->eliminated);
	for (size_t t = 0; t < n; t++)
		team_from_run(rec, run, t, pos);
	for (size_t i = 0; i < n; i++)
		if (rec->teams[i].standing.status == KV_ELIMINATED)
			rec->eliminated[rec->eliminated_count++] = i;
	free(pos);
	return rec;
}

void kv_record_blank_build(struct kv_record *rec)
{
	free(rec->version);
	rec->version = NULL;
	for (size_t c = 0; c < rec->criterion_count; c++) {
		free(rec->plugins[c].version);
		rec->plugins[c].version = NULL;
	}
}

/* --- reading: a cursor that names the member it stopped at ------------------ */

struct reader {
	const char *file;
	char where[160];          /* the member being read, e.g. "teams[nc].criteria" */
	struct kv_error *err;
	int failed;
};

static void reader_at(struct reader *rd, const char *fmt, ...) KV_PRINTF(2, 3);
static void reader_at(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rd->where, sizeof rd->where, fmt, ap);
	va_end(ap);
}

/* Back at the top level of the record. */
static void reader_top(struct reader *rd) { rd->where[0] = '\0'; }

static void bad(struct reader *rd, const char *key, const char *what)
{
	if (rd->failed++)
		return;
	kv_fail(rd->err, KV_EXIT_INPUT, "%s: not a kaieval result record: %s%s%s %s", rd->file, rd->where,
		*rd->where ? "." : "", key, what);
}

static const cJSON *member(struct reader *rd, const cJSON *o, const char *key, int (*is)(const cJSON *),
			   const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || !is(v)) {
		bad(rd, key, what);
		return NULL;
	}
	return v;
}

static cJSON_bool is_object(const cJSON *v) { return cJSON_IsObject(v); }
static cJSON_bool is_array(const cJSON *v) { return cJSON_IsArray(v); }
static cJSON_bool is_number(const cJSON *v) { return cJSON_IsNumber(v); }
static cJSON_bool is_bool(const cJSON *v) { return cJSON_IsBool(v); }
static cJSON_bool is_string(const cJSON *v) { return cJSON_IsString(v); }
static cJSON_bool is_number_or_null(const cJSON *v) { return cJSON_IsNumber(v) || cJSON_IsNull(v); }
static cJSON_bool is_string_or_null(const cJSON *v) { return cJSON_IsString(v) || cJSON_IsNull(v); }

static const cJSON *get_object(struct reader *rd, const cJSON *o, const char *key)
{
	return member(rd, o, key, is_object, "is missing or not an object");
}

static const cJSON *get_array(struct reader *rd, const cJSON *o, const char *key)
{
	return member(rd, o, key, is_array, "is missing or not an array");
}

/* A string kaieval could have written: a config's strings hold no control
 * character but tab and newline (config.c), and names reach terminals. */
static const char *text_of(struct reader *rd, const cJSON *v, const char *key)
{
	if (kv_control_char(v->valuestring) >= 0)
		bad(rd, key, "holds a control character");
	return v->valuestring;
}

static char *get_string(struct reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = member(rd, o, key, is_string, "is missing or not a string");
	return kv_xstrdup(v ? text_of(rd, v, key) : "");
}

static char *get_string_or_null(struct reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = member(rd, o, key, is_string_or_null, "is missing or not a string or null");
	return v && cJSON_IsString(v) ? kv_xstrdup(text_of(rd, v, key)) : NULL;
}

/* A number, or NaN for null (the writer writes non-finite numbers as null). */
static double get_number_or_null(struct reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = member(rd, o, key, is_number_or_null, "is missing or not a number or null");
	return v && cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* An integer that fits a long long: a larger double would not convert
 * (undefined behaviour). */
static long long get_integer(struct reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = member(rd, o, key, is_number, "is missing or not a number");
	if (!v)
		return 0;
	if (v->valuedouble != floor(v->valuedouble)) {
		bad(rd, key, "is not an integer");
		return 0;
	}
	if (!(v->valuedouble >= -0x1p63 && v->valuedouble < 0x1p63)) {
		bad(rd, key, "is out of range (a 64-bit integer)");
		return 0;
	}
	return (long long)v->valuedouble;
}

/* One of the words in names (NULL-terminated); its index, or 0 after an error. */
static int get_word(struct reader *rd, const cJSON *o, const char *key, const char *const *names)
{
	const char *s = kv_json_str(o, key);
	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	bad(rd, key, "is missing or not one of the words a record uses");
	return 0;
}

/* Refuse members the record does not have, and a member given twice: the
 * model would drop them, and a record read back must write the same bytes.
 * names[i] may be NULL: a member this object cannot have. */
static void only_members(struct reader *rd, const cJSON *o, const char *const *names, size_t n)
{
	for (const cJSON *e = o ? o->child : NULL; e; e = e->next) {
		size_t i = 0;
		while (i < n && !(names[i] && strcmp(names[i], e->string) == 0))
			i++;
		if (i == n)
			bad(rd, e->string, "is not a member this part of a record has");
		for (const cJSON *d = o->child; d != e; d = d->next)
			if (strcmp(d->string, e->string) == 0)
				bad(rd, e->string, "is given twice");
	}
}

#define ONLY_MEMBERS(rd, o, ...) do { \
	const char *const names_[] = {__VA_ARGS__}; \
	only_members(rd, o, names_, sizeof names_ / sizeof *names_); \
} while (0)

static enum kv_kind get_kind(struct reader *rd, const cJSON *o)
{
	static const enum kv_kind kinds[] = {KV_KIND_SCORE, KV_KIND_GATE, KV_KIND_INFO};
	const char *s = kv_json_str(o, "kind");
	for (size_t i = 0; s && i < 3; i++)
		if (strcmp(s, kv_kind_name(kinds[i])) == 0)
			return kinds[i];
	bad(rd, "kind", "is missing or not one of the words a record uses");
	return KV_KIND_INFO;
}

/* --- evidence ------------------------------------------------------------------ */

static void write_evidence(struct kv_jw *w, const struct kv_evidence *ev)
{
	kv_jw_key(w, "evidence");
	kv_jw_begin_object(w);
	for (size_t i = 0; i < ev->count; i++) {
		kv_jw_key(w, ev->items[i].key);
		if (ev->items[i].is_num)
			kv_jw_number(w, ev->items[i].num);
		else
			kv_jw_string(w, ev->items[i].str);
	}
	kv_jw_end_object(w);
}

/* Numbers, strings and nulls (a NaN number or an unset string). */
static void read_evidence(struct reader *rd, const cJSON *o, struct kv_evidence *ev)
{
	const cJSON *obj = get_object(rd, o, "evidence");
	for (const cJSON *e = obj ? obj->child : NULL; e; e = e->next) {
		int added;
		struct kv_evidence_item *it = kv_evidence_add(ev, e->string, &added);
		if (!added) { /* diff would compare one with the other's twin */
			char *where = kv_xasprintf("evidence.%s", e->string);
			bad(rd, where, "is given twice");
			free(where);
			continue;
		}
		it->is_num = cJSON_IsNumber(e);
		it->num = it->is_num ? e->valuedouble : NAN;
		it->str = cJSON_IsString(e) ? kv_xstrdup(e->valuestring) : NULL;
		if (!it->is_num && !cJSON_IsString(e) && !cJSON_IsNull(e))
			bad(rd, "evidence", "holds a value that is not a number, a string or null");
	}
}

/* --- header: version, round, config, inputs ------------------------------------ */

static void write_header(struct kv_jw *w, const struct kv_record *rec)
{
	kv_jw_key(w, "kaieval");
	kv_jw_string(w, rec->version);
	kv_jw_key(w, "round");
	kv_jw_begin_object(w);
	kv_jw_key(w, "id"); kv_jw_string(w, rec->round_id);
	kv_jw_key(w, "title"); kv_jw_string(w, rec->title);
	kv_jw_key(w, "date"); kv_jw_string(w, rec->date);
	kv_jw_key(w, "seed"); kv_jw_integer(w, rec->seed);
	kv_jw_end_object(w);
	kv_jw_key(w, "config");
	kv_jw_begin_object(w);
	kv_jw_key(w, "path"); kv_jw_string(w, rec->config_path);
	kv_jw_key(w, "sha256"); kv_jw_string(w, rec->config_sha256);
	kv_jw_end_object(w);
	kv_jw_key(w, "inputs");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < rec->input_count; i++) {
		kv_jw_begin_object(w);
		kv_jw_key(w, "path"); kv_jw_string(w, rec->inputs[i].path);
		kv_jw_key(w, "bytes"); kv_jw_integer(w, rec->inputs[i].bytes);
		kv_jw_key(w, "sha256"); kv_jw_string(w, rec->inputs[i].sha256);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
}

static void read_header(struct reader *rd, const cJSON *doc, struct kv_record *rec)
{
	ONLY_MEMBERS(rd, doc, "kaieval", "round", "config", "inputs", "plugins", "criteria", "selection", "teams",
		     "eliminated");
	rec->version = get_string_or_null(rd, doc, "kaieval");
	const cJSON *round = get_object(rd, doc, "round");
	reader_at(rd, "round");
	ONLY_MEMBERS(rd, round, "id", "title", "date", "seed");
	rec->round_id = get_string(rd, round, "id");
	rec->title = get_string_or_null(rd, round, "title");
	rec->date = get_string_or_null(rd, round, "date");
	rec->seed = get_integer(rd, round, "seed");
	reader_top(rd);
	const cJSON *config = get_object(rd, doc, "config");
	reader_at(rd, "config");
	ONLY_MEMBERS(rd, config, "path", "sha256");
	rec->config_path = get_string_or_null(rd, config, "path");
	rec->config_sha256 = get_string_or_null(rd, config, "sha256");
	reader_top(rd);
	const cJSON *inputs = get_array(rd, doc, "inputs");
	rec->input_count = (size_t)cJSON_GetArraySize(inputs);
	rec->inputs = kv_xcalloc(rec->input_count, sizeof *rec->inputs);
	size_t i = 0;
	for (const cJSON *e = inputs ? inputs->child : NULL; e; e = e->next, i++) {
		reader_at(rd, "inputs[%zu]", i);
		ONLY_MEMBERS(rd, e, "path", "bytes", "sha256");
		rec->inputs[i].path = get_string(rd, e, "path");
		rec->inputs[i].bytes = get_integer(rd, e, "bytes");
		rec->inputs[i].sha256 = get_string(rd, e, "sha256");
	}
}

/* --- plugins --------------------------------------------------------------------- */

/* Only when the plugin warned, so that a record without warnings keeps the
 * bytes it had before warnings were recorded. */
static void write_warnings(struct kv_jw *w, const struct kv_warnings *warnings)
{
	if (!warnings->count)
		return;
	kv_jw_key(w, "warnings");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < warnings->count; i++)
		kv_jw_string(w, warnings->items[i]);
	kv_jw_end_array(w);
}

static void write_plugins(struct kv_jw *w, const struct kv_record *rec)
{
	kv_jw_key(w, "plugins");
	kv_jw_begin_array(w);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_plugin *p = &rec->plugins[c];
		kv_jw_begin_object(w);
		kv_jw_key(w, "criterion"); kv_jw_string(w, p->criterion);
		kv_jw_key(w, "plugin"); kv_jw_string(w, p->plugin);
		kv_jw_key(w, "version"); kv_jw_string(w, p->version);
		kv_jw_key(w, "abi"); kv_jw_string(w, p->abi);
		write_evidence(w, &p->evidence);
		write_warnings(w, &p->warnings);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
}

static void read_warnings(struct reader *rd, const cJSON *o, struct kv_warnings *warnings)
{
	if (!cJSON_GetObjectItemCaseSensitive(o, "warnings"))
		return;
	const cJSON *list = get_array(rd, o, "warnings");
	warnings->count = list ? (size_t)cJSON_GetArraySize(list) : 0;
	if (!warnings->count) {
		bad(rd, "warnings", "is empty: a record writes it only when a plugin warned");
		return;
	}
	warnings->items = kv_xcalloc(warnings->count, sizeof *warnings->items);
	size_t i = 0;
	for (const cJSON *e = list->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e)) {
			bad(rd, "warnings", "holds a value that is not a string");
			warnings->items[i] = kv_xstrdup("");
			continue;
		}
		warnings->items[i] = kv_xstrdup(e->valuestring);
	}
}

/* One entry per criterion, in criteria order (read after the criteria). */
static void read_plugins(struct reader *rd, const cJSON *doc, struct kv_record *rec)
{
	reader_top(rd);
	const cJSON *list = get_array(rd, doc, "plugins");
	if (list && (size_t)cJSON_GetArraySize(list) != rec->criterion_count)
		bad(rd, "plugins", "does not have one entry per criterion");
	rec->plugins = kv_xcalloc(rec->criterion_count, sizeof *rec->plugins);
	size_t c = 0;
	for (const cJSON *e = list ? list->child : NULL; e && c < rec->criterion_count; e = e->next, c++) {
		struct kv_rec_plugin *p = &rec->plugins[c];
		reader_at(rd, "plugins[%zu]", c);
		ONLY_MEMBERS(rd, e, "criterion", "plugin", "version", "abi", "sha256", "evidence", "warnings");
		p->criterion = get_string(rd, e, "criterion");
		if (strcmp(p->criterion, rec->criteria[c].id) != 0)
			bad(rd, "criterion", "is not the criterion at this position in criteria");
		p->plugin = get_string(rd, e, "plugin");
		p->version = get_string_or_null(rd, e, "version");
		p->abi = get_string_or_null(rd, e, "abi");
		if (cJSON_GetObjectItemCaseSensitive(e, "sha256")) {
			free(get_string_or_null(rd, e, "sha256"));
			rec->had_plugin_digests = 1;
		}
		read_evidence(rd, e, &p->evidence);
		read_warnings(rd, e, &p->warnings);
	}
}

/* --- rules: criteria and selection ------------------------------------------------ */

static void write_rules(struct kv_jw *w, const struct kv_record *rec)
{
	kv_jw_key(w, "criteria");
	kv_jw_begin_array(w);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_criterion *cr = &rec->criteria[c];
		kv_jw_begin_object(w);
		kv_jw_key(w, "id"); kv_jw_string(w, cr->id);
		kv_jw_key(w, "plugin"); kv_jw_string(w, cr->plugin);
		kv_jw_key(w, "kind"); kv_jw_string(w, kv_kind_name(cr->kind));
		kv_jw_key(w, "points");
		if (cr->kind == KV_KIND_SCORE) kv_jw_number(w, cr->points); else kv_jw_null(w);
		kv_jw_key(w, "group"); kv_jw_string(w, cr->group);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
	const struct kv_selection *s = &rec->selection;
	kv_jw_key(w, "selection");
	kv_jw_begin_object(w);
	kv_jw_key(w, "gate_failure"); kv_jw_string(w, gate_failure_words[s->gate_flag_only != 0]);
	kv_jw_key(w, s->rule == KV_SELECT_ADVANCE ? "advance" : "eliminate_lowest");
	kv_jw_integer(w, s->n);
	kv_jw_key(w, "min_total");
	if (s->has_min_total) kv_jw_number(w, s->min_total); else kv_jw_null(w);
	kv_jw_key(w, "tie_break");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < s->tie_break_count; i++)
		kv_jw_string(w, s->tie_break[i]);
	kv_jw_end_array(w);
	kv_jw_key(w, "tie_precision"); kv_jw_number(w, s->tie_precision);
	kv_jw_key(w, "unresolved_tie"); kv_jw_string(w, unresolved_tie_words[s->keep_ties != 0]);
	kv_jw_end_object(w);
}

static void read_criteria(struct reader *rd, const cJSON *doc, struct kv_record *rec)
{
	const cJSON *list = get_array(rd, doc, "criteria");
	rec->criterion_count = (size_t)cJSON_GetArraySize(list);
	rec->criteria = kv_xcalloc(rec->criterion_count, sizeof *rec->criteria);
	size_t c = 0;
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next, c++) {
		struct kv_rec_criterion *cr = &rec->criteria[c];
		reader_at(rd, "criteria[%zu]", c);
		ONLY_MEMBERS(rd, e, "id", "plugin", "kind", "points", "group");
		cr->id = get_string(rd, e, "id");
		cr->plugin = get_string(rd, e, "plugin");
		cr->kind = get_kind(rd, e);
		cr->points = get_number_or_null(rd, e, "points");
		if (cr->kind != KV_KIND_SCORE && !isnan(cr->points))
			bad(rd, "points", "is not null for a criterion that is not a score");
		cr->group = get_string_or_null(rd, e, "group");
		if (kv_rec_criterion_index(rec, cr->id) != (long)c)
			bad(rd, "id", "repeats an earlier criterion's id");
	}
	collect_groups(rec);
}

static void read_selection(struct reader *rd, const cJSON *doc, struct kv_record *rec)
{
	struct kv_selection *s = &rec->selection;
	reader_top(rd);
	const cJSON *sel = get_object(rd, doc, "selection");
	reader_at(rd, "selection");
	s->gate_flag_only = get_word(rd, sel, "gate_failure", gate_failure_words);
	s->rule = cJSON_HasObjectItem(sel, "advance") ? KV_SELECT_ADVANCE : KV_SELECT_ELIMINATE_LOWEST;
	ONLY_MEMBERS(rd, sel, "gate_failure", s->rule == KV_SELECT_ADVANCE ? "advance" : "eliminate_lowest",
		     "min_total", "tie_break", "tie_precision", "unresolved_tie");
	s->n = (long)get_integer(rd, sel, s->rule == KV_SELECT_ADVANCE ? "advance" : "eliminate_lowest");
	s->min_total = get_number_or_null(rd, sel, "min_total");
	s->has_min_total = !isnan(s->min_total);
	const cJSON *keys = get_array(rd, sel, "tie_break");
	s->tie_break = kv_xcalloc((size_t)cJSON_GetArraySize(keys), sizeof(char *));
	for (const cJSON *k = keys ? keys->child : NULL; k; k = k->next) {
		if (!cJSON_IsString(k))
			bad(rd, "tie_break", "holds a value that is not a string");
		s->tie_break[s->tie_break_count++] = kv_xstrdup(cJSON_IsString(k) ? k->valuestring : "");
	}
	s->tie_precision = get_number_or_null(rd, sel, "tie_precision");
	s->keep_ties = get_word(rd, sel, "unresolved_tie", unresolved_tie_words);
}

/* --- teams ------------------------------------------------------------------------- */

static void write_outcome(struct kv_jw *w, const struct kv_rec_criterion *cr, const struct kv_team_outcome *o)
{
	kv_jw_key(w, cr->id);
	kv_jw_begin_object(w);
	kv_jw_key(w, "kind"); kv_jw_string(w, kv_kind_name(cr->kind));
	if (cr->kind == KV_KIND_GATE) {
		kv_jw_key(w, "pass"); kv_jw_bool(w, o->pass);
	}
	kv_jw_key(w, "value");
	if (o->has_value) kv_jw_number(w, o->value); else kv_jw_null(w);
	kv_jw_key(w, "unit"); kv_jw_string(w, o->unit ? o->unit : "");
	if (cr->kind == KV_KIND_SCORE || o->has_normalized) {
		kv_jw_key(w, "normalized"); kv_jw_number(w, o->normalized);
	}
	if (cr->kind == KV_KIND_SCORE) {
		kv_jw_key(w, "points"); kv_jw_number(w, o->points);
	}
	write_evidence(w, &o->evidence);
	kv_jw_end_object(w);
}

static void read_outcome(struct reader *rd, const cJSON *obj, const struct kv_rec_criterion *cr,
			 struct kv_team_outcome *o)
{
	ONLY_MEMBERS(rd, obj, "kind", cr->kind == KV_KIND_GATE ? "pass" : NULL, "value", "unit", "normalized",
		     cr->kind == KV_KIND_SCORE ? "points" : NULL, "evidence");
	if (get_kind(rd, obj) != cr->kind)
		bad(rd, "kind", "is not the kind of the criterion");
	if (cr->kind == KV_KIND_GATE) {
		const cJSON *pass = member(rd, obj, "pass", is_bool, "is missing or not true or false");
		o->has_pass = 1;
		o->pass = cJSON_IsTrue(pass);
	}
	o->value = get_number_or_null(rd, obj, "value");
	o->has_value = !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "value"));
	o->unit = get_string(rd, obj, "unit");
	o->has_normalized = cJSON_HasObjectItem(obj, "normalized");
	o->normalized = o->has_normalized || cr->kind == KV_KIND_SCORE ? get_number_or_null(rd, obj, "normalized") : NAN;
	o->points = cr->kind == KV_KIND_SCORE ? get_number_or_null(rd, obj, "points") : 0;
	read_evidence(rd, obj, &o->evidence);
}

static const char *criterion_id(const struct kv_record *rec, size_t i) { return rec->criteria[i].id; }
static const char *team_id(const struct kv_record *rec, size_t i) { return rec->teams[i].team.id; }

/* Indices written as the ids they stand for. */
static void write_id_list(struct kv_jw *w, const char *key, const size_t *idx, size_t n,
			  const struct kv_record *rec, const char *(*id)(const struct kv_record *, size_t))
{
	kv_jw_key(w, key);
	kv_jw_begin_array(w);
	for (size_t i = 0; i < n; i++)
		kv_jw_string(w, id(rec, idx[i]));
	kv_jw_end_array(w);
}

static void write_team(struct kv_jw *w, const struct kv_record *rec, const struct kv_rec_team *t)
{
	const struct kv_standing *s = &t->standing;
	char *reason = kv_rec_reason(rec, t);
	kv_jw_begin_object(w);
	kv_jw_key(w, "id"); kv_jw_string(w, t->team.id);
	kv_jw_key(w, "name"); kv_jw_string(w, t->team.name);
	kv_jw_key(w, "model"); kv_jw_string(w, t->team.model);
	kv_jw_key(w, "rank");
	if (s->rank) kv_jw_integer(w, s->rank); else kv_jw_null(w);
	kv_jw_key(w, "total"); kv_jw_number(w, s->total);
	kv_jw_key(w, "status"); kv_jw_string(w, kv_status_name(s->status));
	kv_jw_key(w, "reason"); kv_jw_string(w, reason);
	write_id_list(w, "failed_gates", s->failed_gates, s->failed_count, rec, criterion_id);
	write_id_list(w, "tied_with", s->tied_with, s->tied_count, rec, team_id);
	kv_jw_key(w, "tie_break_by");
	kv_jw_string(w, s->tie_break_by >= 0 ? rec->selection.tie_break[s->tie_break_by] : NULL);
	kv_jw_key(w, "groups");
	kv_jw_begin_object(w);
	for (size_t g = 0; g < rec->group_count; g++) {
		kv_jw_key(w, rec->groups[g]);
		kv_jw_number(w, t->groups[g]);
	}
	kv_jw_end_object(w);
	kv_jw_key(w, "criteria");
	kv_jw_begin_object(w);
	for (size_t c = 0; c < rec->criterion_count; c++)
		write_outcome(w, &rec->criteria[c], &t->outcomes[c]);
	kv_jw_end_object(w);
	kv_jw_end_object(w);
	free(reason);
}

/* "gate:<id>" and the other words back to the typed reason. */
static void read_reason(struct reader *rd, const cJSON *obj, const struct kv_record *rec, struct kv_standing *s)
{
	member(rd, obj, "reason", is_string_or_null, "is missing or not a string or null");
	const char *text = kv_json_str(obj, "reason");
	if (!text)
		return;
	if (strncmp(text, GATE_PREFIX, strlen(GATE_PREFIX)) == 0) {
		long c = kv_rec_criterion_index(rec, text + strlen(GATE_PREFIX));
		s->reason = KV_REASON_GATE;
		s->reason_gate = c >= 0 ? (size_t)c : 0;
		if (c < 0 || rec->criteria[c].kind != KV_KIND_GATE)
			bad(rd, "reason", "names a gate that is not among the criteria");
	} else if (strcmp(text, "below_min_total") == 0) {
		s->reason = KV_REASON_BELOW_MIN_TOTAL;
	} else if (strcmp(text, "lowest_total") == 0) {
		s->reason = KV_REASON_LOWEST_TOTAL;
	} else {
		bad(rd, "reason", "is not a reason a record gives");
	}
}

/* An array of ids, each resolved by lookup(); indices into *out. */
static int listed(const size_t *v, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == i)
			return 1;
	return 0;
}

static size_t read_id_list(struct reader *rd, const cJSON *obj, const char *key, const struct kv_record *rec,
			   long (*lookup)(const struct kv_record *, const char *), size_t **out)
{
	const cJSON *list = get_array(rd, obj, key);
	size_t n = 0;
	*out = kv_xcalloc((size_t)cJSON_GetArraySize(list), sizeof **out);
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		long i = lookup(rec, cJSON_IsString(e) ? e->valuestring : NULL);
		if (i < 0)
			bad(rd, key, "names something the record does not hold");
		else if (listed(*out, n, (size_t)i))
			bad(rd, key, "names the same thing twice");
		else
			(*out)[n++] = (size_t)i;
	}
	return n;
}

static void read_standing(struct reader *rd, const cJSON *obj, const struct kv_record *rec, struct kv_standing *s)
{
	ONLY_MEMBERS(rd, obj, "id", "name", "model", "rank", "total", "status", "reason", "failed_gates", "tied_with",
		     "tie_break_by", "groups", "criteria");
	const cJSON *rank = member(rd, obj, "rank", is_number_or_null, "is missing or not a number or null");
	s->rank = cJSON_IsNumber(rank) ? (long)get_integer(rd, obj, "rank") : 0;
	if (cJSON_IsNumber(rank) && s->rank < 1)
		bad(rd, "rank", "is not null or at least 1");
	s->total = get_number_or_null(rd, obj, "total");
	s->status = get_word(rd, obj, "status", status_words) ? KV_ELIMINATED : KV_ADVANCE;
	read_reason(rd, obj, rec, s);
	s->failed_count = read_id_list(rd, obj, "failed_gates", rec, kv_rec_criterion_index, &s->failed_gates);
	s->tied_count = read_id_list(rd, obj, "tied_with", rec, kv_rec_team_index, &s->tied_with);
	char *by = get_string_or_null(rd, obj, "tie_break_by");
	s->tie_break_by = tie_break_index(&rec->selection, by);
	if (by && s->tie_break_by < 0)
		bad(rd, "tie_break_by", "is not a tie_break entry of the selection");
	free(by);
}

static void read_team(struct reader *rd, const cJSON *obj, const struct kv_record *rec, struct kv_rec_team *t)
{
	read_standing(rd, obj, rec, &t->standing);
	const cJSON *groups = get_object(rd, obj, "groups");
	only_members(rd, groups, (const char *const *)rec->groups, rec->group_count);
	t->groups = kv_xcalloc(rec->group_count, sizeof *t->groups);
	for (size_t g = 0; g < rec->group_count; g++)
		t->groups[g] = get_number_or_null(rd, groups, rec->groups[g]);
	const cJSON *crit = get_object(rd, obj, "criteria");
	const char **ids = kv_xcalloc(rec->criterion_count, sizeof *ids);
	for (size_t c = 0; c < rec->criterion_count; c++)
		ids[c] = rec->criteria[c].id;
	only_members(rd, crit, ids, rec->criterion_count);
	free(ids);
	t->outcomes = kv_xcalloc(rec->criterion_count, sizeof *t->outcomes);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		reader_at(rd, "teams[%s].criteria", t->team.id);
		const cJSON *o = get_object(rd, crit, rec->criteria[c].id);
		reader_at(rd, "teams[%s].criteria.%s", t->team.id, rec->criteria[c].id);
		if (o)
			read_outcome(rd, o, &rec->criteria[c], &t->outcomes[c]);
	}
}

/* Ids first: a standing names the teams it is tied with. */
static void read_teams(struct reader *rd, const cJSON *doc, struct kv_record *rec)
{
	reader_top(rd);
	const cJSON *list = get_array(rd, doc, "teams");
	rec->teams = kv_xcalloc((size_t)cJSON_GetArraySize(list), sizeof *rec->teams);
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		struct kv_rec_team *t = &rec->teams[rec->team_count];
		reader_at(rd, "teams[%zu]", rec->team_count);
		t->team.id = get_string(rd, e, "id");
		if (!rd->failed)
			reader_at(rd, "teams[%s]", t->team.id);
		t->team.name = get_string_or_null(rd, e, "name");
		t->team.model = get_string_or_null(rd, e, "model");
		if (kv_rec_team_index(rec, t->team.id) >= 0)
			bad(rd, "id", "repeats an earlier team's id");
		rec->team_count++;
	}
	size_t i = 0;
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next, i++) {
		reader_at(rd, "teams[%s]", rec->teams[i].team.id);
		read_team(rd, e, rec, &rec->teams[i]);
	}
	reader_top(rd);
	rec->eliminated_count = read_id_list(rd, doc, "eliminated", rec, kv_rec_team_index, &rec->eliminated);
}

/* --- the whole record --------------------------------------------------------------- */

void kv_record_write(const struct kv_record *rec, struct kv_buf *out)
{
	struct kv_jw w = {0};
	kv_jw_begin_object(&w);
	write_header(&w, rec);
	write_plugins(&w, rec);
	write_rules(&w, rec);
	kv_jw_key(&w, "teams");
	kv_jw_begin_array(&w);
	for (size_t i = 0; i < rec->team_count; i++)
		write_team(&w, rec, &rec->teams[i]);
	kv_jw_end_array(&w);
	write_id_list(&w, "eliminated", rec->eliminated, rec->eliminated_count, rec, team_id);
	kv_jw_end_object(&w);
	*out = w.out;
}

struct kv_record *kv_record_from_json(const cJSON *doc, const char *path, struct kv_error *err)
{
	struct reader rd = {.file = path, .err = err};
	struct kv_record *rec = kv_xcalloc(1, sizeof *rec);
	if (!cJSON_IsObject(doc)) {
		bad(&rd, "the document", "is not an object");
	} else {
		read_header(&rd, doc, rec);
		reader_top(&rd);
		read_criteria(&rd, doc, rec);
		read_plugins(&rd, doc, rec);
		read_selection(&rd, doc, rec);
		read_teams(&rd, doc, rec);
	}
	if (rd.failed) {
		kv_record_free(rec);
		return NULL;
	}
	return rec;
}

struct kv_record *kv_record_read(const char *path, struct kv_error *err)
{
	cJSON *doc = kv_json_load(path, err);
	struct kv_record *rec = doc ? kv_record_from_json(doc, path, err) : NULL;
	cJSON_Delete(doc);
	return rec;
}

static void free_team(struct kv_rec_team *t, size_t criteria)
{
	free(t->team.id);
	free(t->team.name);
	free(t->team.model);
	kv_standing_free(&t->standing);
	free(t->groups);
	for (size_t c = 0; t->outcomes && c < criteria; c++) {
		free(t->outcomes[c].unit);
		kv_evidence_free(&t->outcomes[c].evidence);
	}
	free(t->outcomes);
}

void kv_record_free(struct kv_record *rec)
{
	if (!rec)
		return;
	free(rec->version); free(rec->round_id); free(rec->title); free(rec->date);
	free(rec->config_path); free(rec->config_sha256);
	for (size_t i = 0; i < rec->input_count; i++) {
		free(rec->inputs[i].path);
		free(rec->inputs[i].sha256);
	}
	free(rec->inputs);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		struct kv_rec_plugin *p = rec->plugins ? &rec->plugins[c] : NULL;
		if (p) {
			free(p->criterion); free(p->plugin); free(p->version); free(p->abi);
			kv_evidence_free(&p->evidence);
			for (size_t i = 0; i < p->warnings.count; i++)
				free(p->warnings.items[i]);
			free(p->warnings.items);
		}
		free(rec->criteria[c].id); free(rec->criteria[c].plugin); free(rec->criteria[c].group);
	}
	free(rec->plugins);
	free(rec->criteria);
	for (size_t k = 0; k < rec->selection.tie_break_count; k++)
		free(rec->selection.tie_break[k]);
	free(rec->selection.tie_break);
	for (size_t g = 0; g < rec->group_count; g++)
		free(rec->groups[g]);
	free(rec->groups);
	for (size_t i = 0; i < rec->team_count; i++)
		free_team(&rec->teams[i], rec->criterion_count);
	free(rec->teams);
	free(rec->eliminated);
	free(rec);
}

/* --- decisions ------------------------------------------------------------------------- */

static void decision_text(const struct kv_record *rec, const struct kv_rec_team *t, struct kv_buf *out)
{
	char *reason = kv_rec_reason(rec, t);
	kv_buf_puts(out, kv_status_name(t->standing.status));
	if (t->standing.rank)
		kv_buf_printf(out, " (rank %d", (int)t->standing.rank);
	else
		kv_buf_puts(out, " (unranked");
	kv_buf_printf(out, "%s%s)", reason ? ", " : "", reason ? reason : "");
	free(reason);
}

size_t kv_decision_diff(const struct kv_record *old_rec, const struct kv_record *new_rec, struct kv_buf *out)
{
	size_t n = 0;
	for (size_t i = 0; i < old_rec->team_count; i++) {
		const struct kv_rec_team *t = &old_rec->teams[i];
		long j = kv_rec_team_index(new_rec, t->team.id);
		if (j < 0)
			continue;
		struct kv_buf a = {0}, b = {0};
		decision_text(old_rec, t, &a);
		decision_text(new_rec, &new_rec->teams[j], &b);
		if (strcmp(a.data, b.data) != 0) {
			kv_buf_printf(out, "team %s: %s -> %s\n", t->team.id, a.data, b.data);
			n++;
		}
		kv_buf_free(&a);
		kv_buf_free(&b);
	}
	return n;
}
