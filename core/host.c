/* The host function table handed to plugins. */
#include "host.h"
#include "isolate_wire.h"
#include "table.h"
#include "rng.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct kv_input { struct kv_ctx *ctx; struct kv_stream *stream; };
struct kv_table_handle;

static struct kv_criterion_result *result_of(struct kv_ctx *c) { return &c->run->results[c->index]; }
static const struct kv_criterion *crit_of(struct kv_ctx *c) { return &c->run->round->criteria[c->index]; }

static int h_verror(struct kv_ctx *c, const char *fmt, va_list ap)
{
	char msg[KV_MSG_MAX - 128];
	vsnprintf(msg, sizeof msg, fmt, ap);
	return kv_fail(c->err, KV_ERR_INPUT, "criterion '%s' (plugin %s): %s", crit_of(c)->id,
		       result_of(c)->plugin.desc->name, msg);
}

static int h_error(struct kv_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	h_verror(c, fmt, ap);
	va_end(ap);
	return KV_ERR_INPUT;
}

static void keep_warning(struct kv_ctx *c, const char *msg);

/* In an isolated plugin's process, what would be recorded goes to the core. */
static void forward(struct kv_buf *b) { kv_wire_send(KV_ISOLATE_FD, b); }

void kv_host_warning(struct kv_ctx *c, const char *msg)
{
	fprintf(stderr, "kaieval: warning: criterion '%s': ", crit_of(c)->id);
	kv_print_text(stderr, "", msg, "\n");
	keep_warning(c, msg);
}

static void h_warn(struct kv_ctx *c, const char *fmt, ...)
{
	struct kv_buf b = {0}, m;
	va_list ap;
	va_start(ap, fmt);
	kv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (c->forward) {
		kv_wire_begin(&m, KV_MSG_WARNING);
		kv_wire_str(&m, b.data ? b.data : "");
		forward(&m);
	} else {
		kv_host_warning(c, b.data ? b.data : "");
	}
	kv_buf_free(&b);
}

/* Sent at most every tenth of a second, and only when the core shows it;
 * bytes of an input (input_progress) carry a third number, 1. */
static void forward_progress(struct kv_ctx *c, uint64_t done, uint64_t total, int bytes)
{
	static struct timespec last;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!c->progress_wanted || ((now.tv_sec - last.tv_sec) * 1000000000L +
				    (now.tv_nsec - last.tv_nsec) < 100000000L && done != total))
		return;
	last = now;
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_PROGRESS);
	kv_wire_u64(&m, done);
	kv_wire_u64(&m, total);
	if (bytes)
		kv_wire_u64(&m, 1);
	forward(&m);
}

static void h_progress(struct kv_ctx *c, uint64_t done, uint64_t total)
{
	if (c->forward) {
		forward_progress(c, done, total, 0);
		return;
	}
	kv_host_progress(c, done, total);
}

void kv_host_progress(struct kv_ctx *c, uint64_t done, uint64_t total)
{
	if (!isatty(STDERR_FILENO))
		return;
	if (total)
		fprintf(stderr, "\r%s: %3d%%", crit_of(c)->id, (int)(100.0 * (double)done / (double)total));
	else
		fprintf(stderr, "\r%s: %llu", crit_of(c)->id, (unsigned long long)done);
	c->progress_shown = 1;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void kv_host_progress_bytes(struct kv_ctx *c, uint64_t done, uint64_t total)
{
	double now = seconds_now(), mb = 1e-6;
	if (!isatty(STDERR_FILENO))
		return;
	if (c->progress_start == 0) {
		c->progress_start = now;
		c->progress_first = done;
	} else if (now - c->progress_last < 0.1 && done != total) {
		return;
	}
	c->progress_last = now;
	double rate = now > c->progress_start ? (double)(done - c->progress_first) / (now - c->progress_start) : 0;
	fprintf(stderr, "\r\033[K%s: read %.0f of %.0f MB", crit_of(c)->id, (double)done * mb, (double)total * mb);
	if (total)
		fprintf(stderr, " (%d%%)", (int)(100.0 * (double)done / (double)total));
	if (rate > 0)
		fprintf(stderr, ", %.0f MB/s", rate * mb);
	c->progress_shown = 1;
}

static const char *h_criterion_id(struct kv_ctx *c) { return crit_of(c)->id; }
static enum kv_kind h_criterion_kind(struct kv_ctx *c) { return crit_of(c)->kind; }
static size_t h_team_count(struct kv_ctx *c) { return c->run->round->team_count; }

static const struct kv_team *team_at(struct kv_ctx *c, size_t t)
{
	return t < c->run->round->team_count ? &c->run->round->teams[t] : NULL;
}

static const char *h_team_id(struct kv_ctx *c, size_t t) { return team_at(c, t) ? team_at(c, t)->id : NULL; }
static const char *h_team_name(struct kv_ctx *c, size_t t) { return team_at(c, t) ? team_at(c, t)->name : NULL; }
static const char *h_team_model(struct kv_ctx *c, size_t t) { return team_at(c, t) ? team_at(c, t)->model : NULL; }
static long h_team_index(struct kv_ctx *c, const char *id) { return id ? kv_round_team_index(c->run->round, id) : -1; }

static const struct kv_value *h_param(struct kv_ctx *c, const char *name)
{
	return kv_value_member(result_of(c)->params, name);
}

static enum kv_type h_value_type(const struct kv_value *v) { return v ? v->type : KV_T_NONE; }

static size_t h_value_count(const struct kv_value *v)
{
	return v && (v->type == KV_T_LIST || v->type == KV_T_GROUP) ? v->count : 0;
}

static const struct kv_value *h_value_at(const struct kv_value *v, size_t i)
{
	return i < h_value_count(v) ? v->items[i] : NULL;
}

static const char *h_value_name(const struct kv_value *v) { return v ? v->name : ""; }
static const char *h_value_string(const struct kv_value *v) { return v && v->type == KV_T_STRING ? v->str : NULL; }
static int h_value_double(const struct kv_value *v, double *o) { return kv_value_as_double(v, o); }
static int h_value_int(const struct kv_value *v, long long *o) { return kv_value_as_int(v, o); }

static int h_value_bool(const struct kv_value *v, int *o)
{
	if (!v || v->type != KV_T_BOOL)
		return 0;
	*o = v->b;
	return 1;
}

static const char *h_value_where(const struct kv_value *v) { return v ? v->where : ""; }

static int h_value_error(struct kv_ctx *c, const struct kv_value *v, const char *fmt, ...)
{
	char msg[KV_MSG_MAX - 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (v && v->name[0])
		return h_error(c, "%s: '%s': %s", v->where, v->name, msg);
	return h_error(c, "%s: %s", v ? v->where : "?", msg);
}

char *kv_expand_team(const char *tmpl, const char *team_id)
{
	struct kv_buf b = {0};
	kv_buf_puts(&b, "");
	for (const char *p = tmpl; *p;) {
		if (team_id && strncmp(p, "{team}", 6) == 0) {
			kv_buf_puts(&b, team_id);
			p += 6;
		} else {
			kv_buf_add(&b, p++, 1);
		}
	}
	return b.data;
}

static int h_expand_team(struct kv_ctx *c, const char *tmpl, size_t team, char *buf, size_t len)
{
	char *path = kv_expand_team(tmpl, h_team_id(c, team));
	size_t n = strlen(path);
	int fits = n < len;
	if (fits)
		memcpy(buf, path, n + 1);
	free(path);
	return fits ? 0 : h_error(c, "%s: path too long", tmpl);
}

/* A replicate reuses what its evaluation read (that is what makes ten
 * thousand of them cheap, and the same files): any file asked for then is a
 * breach of the contract, not an input error. */
static int refused_in_redraw(struct kv_ctx *c, const char *path)
{
	if (!c->redraw)
		return 0;
	if (!c->err->status)
		kv_fail(c->err, KV_EXIT_INTERNAL, "criterion '%s' (plugin %s) asked for the file %s in a replicate; "
			"a replicate may only reuse what its evaluation read", crit_of(c)->id,
			c->run->results[c->index].plugin.desc->name, path);
	return 1;
}

static int h_input_kind(struct kv_ctx *c, const char *path)
{
	return refused_in_redraw(c, path) ? KV_ERR_INPUT : kv_inputs_kind(&c->run->inputs, path);
}

static int wrap(struct kv_ctx *c, int rc, struct kv_error *inner)
{
	return rc ? h_error(c, "%s", inner->msg) : 0;
}

static int h_input_load(struct kv_ctx *c, const char *path, const char **data, size_t *len)
{
	struct kv_error inner = {0};
	char *text;
	if (refused_in_redraw(c, path))
		return KV_ERR_INPUT;
	if (kv_inputs_load(&c->run->inputs, path, &text, len, &inner))
		return wrap(c, KV_ERR_INPUT, &inner);
	c->buffers = kv_xrealloc(c->buffers, (c->buffer_count + 1) * sizeof *c->buffers);
	c->buffers[c->buffer_count++] = text;
	*data = text;
	return 0;
}

static struct kv_input *h_input_open(struct kv_ctx *c, const char *path)
{
	struct kv_error inner = {0};
	if (refused_in_redraw(c, path))
		return NULL;
	struct kv_stream *s = kv_stream_open(&c->run->inputs, path, &inner);
	if (!s) {
		wrap(c, KV_ERR_INPUT, &inner);
		return NULL;
	}
	struct kv_input *in = kv_xcalloc(1, sizeof *in);
	in->ctx = c;
	in->stream = s;
	return in;
}

static long h_input_read(struct kv_input *in, void *buf, size_t len)
{
	return in ? kv_stream_read(in->stream, buf, len) : -1;
}

static void h_input_close(struct kv_input *in)
{
	if (!in)
		return;
	kv_stream_close(in->stream, NULL);
	free(in);
}

/* The digest of every byte of the file; in an isolated plugin's process
 * the core's, which opened and hashed it. */
static int h_input_sha256(struct kv_ctx *c, const char *path, char hex[65])
{
	struct kv_input *in = h_input_open(c, path);
	if (!in)
		return KV_ERR_INPUT;
	int rc = kv_stream_close(in->stream, hex);
	free(in);
	return rc ? h_error(c, "%s: read error", path) : 0;
}

static int h_input_list(struct kv_ctx *c, const char *dir, const char *const **names, size_t *count)
{
	struct kv_error inner = {0};
	char **v;
	if (refused_in_redraw(c, dir))
		return KV_ERR_INPUT;
	if (kv_inputs_list(&c->run->inputs, dir, &v, count, &inner))
		return wrap(c, KV_ERR_INPUT, &inner);
	c->lists = kv_xrealloc(c->lists, (c->list_count + 1) * sizeof *c->lists);
	c->list_lengths = kv_xrealloc(c->list_lengths, (c->list_count + 1) * sizeof *c->list_lengths);
	c->lists[c->list_count] = v;
	c->list_lengths[c->list_count++] = *count;
	*names = (const char *const *)v;
	return 0;
}

/* Tables carry their ctx so that table_next can record errors. */
struct table_handle { struct kv_ctx *ctx; struct kv_table *t; };

static struct kv_table *h_table_open(struct kv_ctx *c, const char *path)
{
	struct kv_error inner = {0};
	char *text;
	size_t len;
	if (refused_in_redraw(c, path))
		return NULL;
	if (kv_inputs_load(&c->run->inputs, path, &text, &len, &inner)) {
		wrap(c, KV_ERR_INPUT, &inner);
		return NULL;
	}
	struct kv_table *t = kv_table_new(path, text, len, &inner);
	if (!t) {
		wrap(c, KV_ERR_INPUT, &inner);
		return NULL;
	}
	struct table_handle *h = kv_xcalloc(1, sizeof *h);
	h->ctx = c;
	h->t = t;
	return (struct kv_table *)h;
}

#define HANDLE(t) ((struct table_handle *)(void *)(t))

static int h_table_column(struct kv_table *t, const char *name) { return t ? kv_table_column(HANDLE(t)->t, name) : -1; }

static int h_table_next(struct kv_table *t)
{
	struct kv_error inner = {0};
	if (!t)
		return -1;
	int rc = kv_table_next(HANDLE(t)->t, &inner);
	if (rc < 0)
		wrap(HANDLE(t)->ctx, KV_ERR_INPUT, &inner);
	return rc;
}

static const char *h_table_field(struct kv_table *t, int col) { return t ? kv_table_field(HANDLE(t)->t, col) : ""; }
static long h_table_line(struct kv_table *t) { return t ? kv_table_line(HANDLE(t)->t) : 0; }

static int h_table_error(struct kv_table *t, int column, const char *fmt, ...)
{
	char msg[KV_MSG_MAX - 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct kv_table *in = HANDLE(t)->t;
	if (column >= 0)
		return h_error(HANDLE(t)->ctx, "%s:%ld: column '%s': %s", kv_table_path(in),
			       kv_table_line(in), kv_table_column_name(in, column), msg);
	return h_error(HANDLE(t)->ctx, "%s:%ld: %s", kv_table_path(in), kv_table_line(in), msg);
}

static void h_table_close(struct kv_table *t)
{
	if (!t)
		return;
	kv_table_free(HANDLE(t)->t);
	free(t);
}

static int h_json_load(struct kv_ctx *c, const char *path, const struct kv_value **root)
{
	const char *text;
	size_t len;
	if (h_input_load(c, path, &text, &len))
		return KV_ERR_INPUT;
	struct kv_error inner = {0};
	struct kv_value *v = kv_value_parse_json(text, len, path, &inner);
	if (!v)
		return wrap(c, KV_ERR_INPUT, &inner);
	c->trees = kv_xrealloc(c->trees, (c->tree_count + 1) * sizeof *c->trees);
	c->trees[c->tree_count++] = v;
	*root = v;
	return 0;
}

static struct kv_team_outcome *outcome_at(struct kv_ctx *c, size_t team)
{
	return team < c->run->round->team_count ? &result_of(c)->teams[team] : NULL;
}

static void forward_team(enum kv_msg type, size_t team, double x, const char *unit)
{
	struct kv_buf m;
	kv_wire_begin(&m, type);
	kv_wire_u64(&m, team);
	kv_wire_f64(&m, x);
	if (type == KV_MSG_VALUE)
		kv_wire_str(&m, unit ? unit : "");
	forward(&m);
}

static void h_set_value(struct kv_ctx *c, size_t team, double value, const char *unit)
{
	if (c->forward && outcome_at(c, team))
		forward_team(KV_MSG_VALUE, team, value, unit);
	else
		kv_host_set_value(c, team, value, unit);
}

void kv_host_set_value(struct kv_ctx *c, size_t team, double value, const char *unit)
{
	struct kv_team_outcome *o = outcome_at(c, team);
	if (!o || c->forward)
		return;
	o->has_value = 1;
	o->value = value;
	free(o->unit);
	o->unit = kv_xstrdup(unit ? unit : "");
}

static void h_set_normalized(struct kv_ctx *c, size_t team, double x)
{
	if (c->forward && outcome_at(c, team))
		forward_team(KV_MSG_NORMALIZED, team, x, NULL);
	else
		kv_host_set_normalized(c, team, x);
}

void kv_host_set_normalized(struct kv_ctx *c, size_t team, double x)
{
	struct kv_team_outcome *o = outcome_at(c, team);
	if (o && !c->forward) {
		o->has_normalized = 1;
		o->normalized = x;
	}
}

static void h_set_pass(struct kv_ctx *c, size_t team, int pass)
{
	if (c->forward && outcome_at(c, team))
		forward_team(KV_MSG_PASS, team, pass != 0, NULL);
	else
		kv_host_set_pass(c, team, pass);
}

void kv_host_set_pass(struct kv_ctx *c, size_t team, int pass)
{
	struct kv_team_outcome *o = outcome_at(c, team);
	if (o && !c->forward) {
		o->has_pass = 1;
		o->pass = pass != 0;
	}
}

static struct kv_evidence *evidence_of(struct kv_ctx *c, size_t team)
{
	if (team == KV_ROUND)
		return &result_of(c)->evidence;
	struct kv_team_outcome *o = outcome_at(c, team);
	return o ? &o->evidence : NULL;
}

void kv_host_evidence(struct kv_ctx *c, size_t team, const char *key, int is_num, double num,
		      const char *str)
{
	struct kv_evidence *ev = evidence_of(c, team);
	if (!ev || !key)
		return;
	if (!c->forward) {
		kv_evidence_set(ev, key, is_num, num, str);
		return;
	}
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_EVIDENCE);
	kv_wire_u64(&m, team);
	kv_wire_str(&m, key);
	kv_wire_u64(&m, is_num != 0);
	kv_wire_f64(&m, num);
	kv_wire_str(&m, is_num ? NULL : str);
	forward(&m);
}

static void h_evidence_num(struct kv_ctx *c, size_t team, const char *key, double value)
{
	kv_host_evidence(c, team, key, 1, value, NULL);
}

static void h_evidence_str(struct kv_ctx *c, size_t team, const char *key, const char *fmt, ...)
{
	if (!evidence_of(c, team) || !key)
		return;
	struct kv_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	kv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	kv_host_evidence(c, team, key, 0, 0, b.data ? b.data : "");
	kv_buf_free(&b);
}

static int h_outcome(struct kv_ctx *c, const char *criterion, size_t team, struct kv_outcome *out)
{
	long i = criterion ? kv_round_criterion_index(c->run->round, criterion) : -1;
	if (i < 0)
		return h_error(c, "no criterion '%s' in this round", criterion ? criterion : "(null)");
	if ((size_t)i >= c->index)
		return h_error(c, "criterion '%s' is evaluated after this one; "
			       "list it earlier in round.criteria", criterion);
	if (team >= c->run->round->team_count)
		return h_error(c, "team index %zu out of range", team);
	const struct kv_team_outcome *o = &c->run->results[i].teams[team];
	out->kind = c->run->round->criteria[i].kind;
	out->value = o->has_value ? o->value : NAN;
	out->normalized = o->has_normalized ? o->normalized : NAN;
	out->pass = o->has_pass ? o->pass : 1;
	return 0;
}

static void h_rng_stream(struct kv_ctx *c, const char *purpose, uint64_t replicate, struct kv_rng *rng)
{
	kv_rng_derive((uint64_t)c->run->round->seed, crit_of(c)->id, purpose ? purpose : "",
		      replicate, rng);
}

/* Since 1.1: the warnings also reach the record, in the order given. */
static void keep_warning(struct kv_ctx *c, const char *msg)
{
	struct kv_warnings *w = &result_of(c)->warnings;
	w->items = kv_xrealloc(w->items, (w->count + 1) * sizeof *w->items);
	w->items[w->count++] = kv_xstrdup(msg);
}

void kv_warnings_free(struct kv_warnings *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

/* The plugin says how many bytes of struct kv_outcome it has room for. */
static int h_outcome_get(struct kv_ctx *c, const char *criterion, size_t team,
			 struct kv_outcome *out, size_t out_size)
{
	struct kv_outcome full;
	int rc = h_outcome(c, criterion, team, &full);
	if (rc == 0 && out)
		memcpy(out, &full, out_size < sizeof full ? out_size : sizeof full);
	return rc;
}

static int h_table_number(struct kv_table *t, int column, double *out)
{
	if (!t || !out)
		return KV_ERR_INPUT;
	return kv_number_parse(kv_table_field(HANDLE(t)->t, column), out) ? 0 : KV_ERR_INPUT;
}

static int h_input_progress(struct kv_input *in, uint64_t done)
{
	if (!in)
		return KV_ERR_INPUT;
	uint64_t total = kv_stream_size(in->stream);
	if (in->ctx->forward)
		forward_progress(in->ctx, done, total, 1);
	else
		kv_host_progress_bytes(in->ctx, done, total);
	return 0;
}

static const struct kv_host host_table = {
	.abi_version = KV_ABI_VERSION,
	.size = sizeof(struct kv_host),
	.error = h_error,
	.warn = h_warn,
	.progress = h_progress,
	.criterion_id = h_criterion_id,
	.criterion_kind = h_criterion_kind,
	.team_count = h_team_count,
	.team_id = h_team_id,
	.team_name = h_team_name,
	.team_model = h_team_model,
	.team_index = h_team_index,
	.param = h_param,
	.value_type = h_value_type,
	.value_count = h_value_count,
	.value_at = h_value_at,
	.value_member = (const struct kv_value *(*)(const struct kv_value *, const char *))kv_value_member,
	.value_name = h_value_name,
	.value_string = h_value_string,
	.value_double = h_value_double,
	.value_int = h_value_int,
	.value_bool = h_value_bool,
	.value_where = h_value_where,
	.value_error = h_value_error,
	.expand_team = h_expand_team,
	.input_kind = h_input_kind,
	.input_load = h_input_load,
	.input_open = h_input_open,
	.input_read = h_input_read,
	.input_close = h_input_close,
	.input_sha256 = h_input_sha256,
	.input_list = h_input_list,
	.table_open = h_table_open,
	.table_column = h_table_column,
	.table_next = h_table_next,
	.table_field = h_table_field,
	.table_line = h_table_line,
	.table_error = h_table_error,
	.table_close = h_table_close,
	.json_load = h_json_load,
	.set_value = h_set_value,
	.set_normalized = h_set_normalized,
	.set_pass = h_set_pass,
	.evidence_num = h_evidence_num,
	.evidence_str = h_evidence_str,
	.outcome = h_outcome,
	.rng_stream = h_rng_stream,
	.outcome_get = h_outcome_get,
	.table_number = h_table_number,
	.input_progress = h_input_progress,
};

const struct kv_host *kv_host_table(void) { return &host_table; }
