/*
 * kaieval/plugin.h -- the plugin ABI of kaieval.
 *
 * This is the only header a criterion plugin needs.  A plugin is a shared
 * object that exports one constant descriptor, named after the plugin; the
 * macro KAIEVAL_PLUGIN_DEFINE writes it from the plugin's name:
 *
 *     KAIEVAL_PLUGIN_DEFINE(table, .kinds = KV_KIND_SCORE, ...);
 *
 * The core checks abi_version and size before it calls anything, validates the
 * descriptor, checks the criterion's params against the declared list, then
 * calls open -> evaluate -> close once per criterion.  Every service a plugin
 * needs (parameters, teams, input files, CSV/JSONL tables, JSON, evidence,
 * outcomes of earlier criteria, random numbers) comes through the host table
 * handed to each call, so a plugin links against nothing of the core.
 *
 * Rules (kaieval-plugin(3) explains them at length):
 *   - a plugin never prints, exits or aborts; it reports through host->error
 *     and returns KV_ERR_INPUT (bad data or params) or KV_ERR_INTERNAL;
 *   - it reads files only through the host, which confines paths to the
 *     round's data directory and records size and SHA-256 of every input;
 *   - whatever it hands the host is copied; whatever the host hands it stays
 *     valid until its evaluate() returns;
 *   - the host table only ever grows at its end: check KV_HOST_HAS before
 *     using a member added after the ABI version you were built for.
 *
 * How the ABI grows (every minor version keeps every plugin of the same
 * major version loading and scoring unchanged):
 *   1. struct kv_host and struct kv_plugin gain members only at their end,
 *      each marked with the version that added it ("since 1.1"); nothing is
 *      removed, reordered or retyped.  A reader of a member added after 1.0
 *      checks KV_HOST_HAS / KV_PLUGIN_HAS first.
 *   2. The core never writes a struct into plugin memory without a size from
 *      the plugin (outcome_get's out_size), and never walks a plugin's array
 *      with its own sizeof (param_decl_size), so those structs may grow too.
 *   3. Every member added from 1.1 on returns 0 on success and a KV_ERR_*
 *      status on failure, and says whether it records an error.
 *   4. KV_ABI_MINOR goes up by one per release that appends; the version is
 *      written here only (the build and the pkg-config file read it).
 */
#ifndef KAIEVAL_PLUGIN_H
#define KAIEVAL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major changes break plugins (exact match required); minor ones only append. */
#define KV_ABI_MAJOR 1
#define KV_ABI_MINOR 1
#define KV_ABI_VERSION ((uint32_t)((KV_ABI_MAJOR << 16) | KV_ABI_MINOR))

#if defined(__GNUC__)
#define KV_PLUGIN_EXPORT __attribute__((visibility("default")))
#define KV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KV_PLUGIN_EXPORT
#define KV_PRINTF(f, a)
#endif

/* Status returned by plugin functions (append-only). */
enum kv_status {
	KV_OK = 0,
	KV_ERR_INPUT = 2,    /* bad data file or param: the run exits 2 */
	KV_ERR_INTERNAL = 3  /* a bug or resource failure: the run exits 3 */
};

/* What a criterion is (the config's `kind`); also a mask of kinds a plugin supports. */
enum kv_kind { KV_KIND_SCORE = 1, KV_KIND_GATE = 2, KV_KIND_INFO = 4 };

/* Types of parameter and JSON values. */
enum kv_type {
	KV_T_NONE = 0,   /* absent / JSON null */
	KV_T_STRING,
	KV_T_INT,
	KV_T_FLOAT,
	KV_T_BOOL,
	KV_T_PATH,       /* declared type only: a string naming a data file */
	KV_T_LIST,       /* libconfig list or array; JSON array */
	KV_T_GROUP       /* libconfig group; JSON object */
};

/* One declared parameter.  The core applies `def` (parsed by `type`) when the
 * config omits the key, refuses unknown keys and wrong types, and prints these
 * fields in `kaieval plugins NAME`.  It may gain members at its end: the core
 * steps through a plugin's array by the descriptor's param_decl_size. */
struct kv_param_decl {
	const char *name;
	enum kv_type type;    /* KV_T_FLOAT also accepts an integer */
	int required;         /* 1: the config must set it */
	const char *def;      /* default as text, or NULL for none */
	const char *choices;  /* "a|b|c" for an enumerated string, or NULL */
	const char *doc;      /* one line */
};

struct kv_ctx;        /* one criterion being evaluated (opaque) */
struct kv_value;      /* a param or JSON value (opaque, read-only) */
struct kv_input;      /* a data file opened for streaming */
struct kv_table;      /* a CSV or JSONL record reader */

/* The seeded generator: xoshiro256**.  The host seeds it (see rng_stream);
 * the step functions below are inline so that bootstraps stay fast. */
struct kv_rng { uint64_t s[4]; };

/* An earlier criterion's outcome for one team, as the core recorded it.  It
 * may gain members at its end: outcome_get writes only the bytes asked for. */
struct kv_outcome {
	enum kv_kind kind;
	double value;        /* raw value (NaN when the plugin set none) */
	double normalized;   /* score criteria: in [0, 1] */
	int pass;            /* gates: 1 pass, 0 fail */
};

/* The host function table.  Append-only; `size` tells what a host has. */
struct kv_host {
	uint32_t abi_version;
	uint32_t size;

	/* --- errors and diagnostics ------------------------------------- */
	/* Record the error that stops the round (the first one wins); returns
	 * KV_ERR_INPUT so that `return host->error(ctx, ...)` reads well. */
	int (*error)(struct kv_ctx *ctx, const char *fmt, ...) KV_PRINTF(2, 3);
	/* A warning on stderr, prefixed with the criterion id; since 1.1 it is
	 * also kept in the record, in the criterion's "warnings" array. */
	void (*warn)(struct kv_ctx *ctx, const char *fmt, ...) KV_PRINTF(2, 3);
	/* Progress of long work; shown only when stderr is a terminal. */
	void (*progress)(struct kv_ctx *ctx, uint64_t done, uint64_t total);

	/* --- the criterion and the round's teams ------------------------ */
	const char *(*criterion_id)(struct kv_ctx *ctx);
	enum kv_kind (*criterion_kind)(struct kv_ctx *ctx);
	size_t (*team_count)(struct kv_ctx *ctx);
	const char *(*team_id)(struct kv_ctx *ctx, size_t team);
	const char *(*team_name)(struct kv_ctx *ctx, size_t team);
	const char *(*team_model)(struct kv_ctx *ctx, size_t team);
	/* Index of a team id, or -1. */
	long (*team_index)(struct kv_ctx *ctx, const char *id);

	/* --- parameters and JSON values ---------------------------------- */
	/* A top-level param with defaults applied, or NULL when absent. */
	const struct kv_value *(*param)(struct kv_ctx *ctx, const char *name);
	enum kv_type (*value_type)(const struct kv_value *v);
	/* Members of a list or group, in order; 0 for scalars. */
	size_t (*value_count)(const struct kv_value *v);
	const struct kv_value *(*value_at)(const struct kv_value *v, size_t i);
	/* A group member by name, or NULL. */
	const struct kv_value *(*value_member)(const struct kv_value *group, const char *name);
	/* The member's name inside its group ("" otherwise). */
	const char *(*value_name)(const struct kv_value *v);
	/* Scalars: NULL / 0 when the value is not of that type.  value_double
	 * accepts ints; value_int accepts floats that are whole numbers. */
	const char *(*value_string)(const struct kv_value *v);
	int (*value_double)(const struct kv_value *v, double *out);
	int (*value_int)(const struct kv_value *v, long long *out);
	int (*value_bool)(const struct kv_value *v, int *out);
	/* Where the value came from: "round.cfg:42" or "manifests/lg.json". */
	const char *(*value_where)(const struct kv_value *v);
	/* Record an error prefixed with value_where(v); returns KV_ERR_INPUT. */
	int (*value_error)(struct kv_ctx *ctx, const struct kv_value *v, const char *fmt, ...)
		KV_PRINTF(3, 4);

	/* --- input files (paths relative to the round's data directory) -- */
	/* Replace every "{team}" in tmpl by the team's id.  Returns 0, or
	 * KV_ERR_INPUT (error recorded) when it does not fit in len bytes. */
	int (*expand_team)(struct kv_ctx *ctx, const char *tmpl, size_t team, char *buf, size_t len);
	/* 0 absent, 1 regular file, 2 directory (no error recorded). */
	int (*input_kind)(struct kv_ctx *ctx, const char *path);
	/* Whole file, NUL-terminated, owned by the host until evaluate returns. */
	int (*input_load)(struct kv_ctx *ctx, const char *path, const char **data, size_t *len);
	/* Streaming read for large files: NULL (error recorded) on failure;
	 * input_read returns bytes read, 0 at end of file, -1 on error. */
	struct kv_input *(*input_open)(struct kv_ctx *ctx, const char *path);
	long (*input_read)(struct kv_input *in, void *buf, size_t len);
	void (*input_close)(struct kv_input *in);
	/* SHA-256 of a file as 64 lowercase hex digits (the file is recorded). */
	int (*input_sha256)(struct kv_ctx *ctx, const char *path, char hex[65]);
	/* Names in a directory, sorted bytewise, without "." and "..". */
	int (*input_list)(struct kv_ctx *ctx, const char *dir, const char *const **names, size_t *count);

	/* --- tables: CSV (RFC 4180, UTF-8, optional BOM, header row) or JSONL
	 * (one object per line; picked by a ".jsonl" suffix) ------------------ */
	struct kv_table *(*table_open)(struct kv_ctx *ctx, const char *path);
	/* Column index by header name (JSONL: by the keys of the first record), or -1. */
	int (*table_column)(struct kv_table *t, const char *name);
	/* 1 a record, 0 end of table, -1 malformed (error recorded). */
	int (*table_next)(struct kv_table *t);
	/* The current record's field ("" when empty or absent). */
	const char *(*table_field)(struct kv_table *t, int column);
	/* Line where the current record starts (1 = header). */
	long (*table_line)(struct kv_table *t);
	/* Record "file:line: column 'name': message"; returns KV_ERR_INPUT. */
	int (*table_error)(struct kv_table *t, int column, const char *fmt, ...) KV_PRINTF(3, 4);
	void (*table_close)(struct kv_table *t);

	/* --- JSON ------------------------------------------------------------ */
	/* Parse a JSON file into a value tree owned by the host until evaluate
	 * returns.  Syntax errors name the file, line and column. */
	int (*json_load)(struct kv_ctx *ctx, const char *path, const struct kv_value **root);

	/* --- outcomes (team = index into the round's teams) -------------- */
	void (*set_value)(struct kv_ctx *ctx, size_t team, double value, const char *unit);
	void (*set_normalized)(struct kv_ctx *ctx, size_t team, double normalized);
	void (*set_pass)(struct kv_ctx *ctx, size_t team, int pass);
	/* Evidence lines, in the order given; team (size_t)-1 = the criterion
	 * as a whole.  Setting a key again replaces its value. */
	void (*evidence_num)(struct kv_ctx *ctx, size_t team, const char *key, double value);
	void (*evidence_str)(struct kv_ctx *ctx, size_t team, const char *key, const char *fmt, ...)
		KV_PRINTF(4, 5);
	/* An earlier criterion's outcome: 0, or KV_ERR_INPUT (error recorded)
	 * when `criterion` is unknown or not evaluated before this one.  It writes
	 * the whole 1.0 struct kv_outcome: prefer outcome_get (since 1.1). */
	int (*outcome)(struct kv_ctx *ctx, const char *criterion, size_t team, struct kv_outcome *out);

	/* --- randomness ------------------------------------------------------ */
	/* A generator for (round seed, this criterion, purpose, replicate); the
	 * same on every machine and independent of the order of calls. */
	void (*rng_stream)(struct kv_ctx *ctx, const char *purpose, uint64_t replicate, struct kv_rng *rng);

	/* === since 1.1 ======================================================
	 * Members from here on return 0 on success or a KV_ERR_* status; check
	 * KV_HOST_HAS(host, member) before calling one.  Later versions append
	 * after the last member below, in the same way. */

	/* (1.1) outcome with a size: writes min(out_size, the core's size) bytes
	 * of struct kv_outcome, so the struct can grow.  Pass sizeof *out.  0, or
	 * KV_ERR_INPUT (error recorded) as for outcome. */
	int (*outcome_get)(struct kv_ctx *ctx, const char *criterion, size_t team,
			   struct kv_outcome *out, size_t out_size);
	/* (1.1) The current record's field as a finite number: an optional sign,
	 * decimal digits with an optional '.' (at least one digit), an optional
	 * exponent e|E[sign]digits, and nothing else (no blanks, hex, inf, nan).
	 * 0, or KV_ERR_INPUT without recording an error (the caller names what
	 * the cell should hold, e.g. with table_error) and *out untouched. */
	int (*table_number)(struct kv_table *t, int column, double *out);
	/* (1.1) Show on a terminal how far an input of input_open has been
	 * read: `done` bytes of the file's size, with the rate.  Call it as
	 * often as convenient (a few updates a second are shown).  0, or
	 * KV_ERR_INPUT for a NULL input. */
	int (*input_progress)(struct kv_input *in, uint64_t done);
};

/* Does this host table have `member`?  (Members added after 1.0.) */
#define KV_HOST_HAS(host, member) \
	((host)->size >= offsetof(struct kv_host, member) + sizeof((host)->member))

/* 0 when the host has `member`; otherwise records an error naming it and
 * gives KV_ERR_INTERNAL:  if (KV_HOST_REQUIRE(h, ctx, m)) return KV_ERR_INTERNAL; */
#define KV_HOST_REQUIRE(host, ctx, member) \
	(KV_HOST_HAS(host, member) ? KV_OK \
	 : ((void)(host)->error((ctx), "this kaieval has no host->" #member \
				 " (a newer kaieval is needed)"), KV_ERR_INTERNAL))

/* The whole round is one team for plugins that report round-level evidence. */
#define KV_ROUND ((size_t)-1)

/* The descriptor each plugin exports as kaieval_plugin_<name>. */
struct kv_plugin {
	uint32_t abi_version;   /* KV_ABI_VERSION: must stay first */
	uint32_t size;          /* sizeof(struct kv_plugin) as compiled */
	uint32_t flags;         /* reserved, must be 0 */
	uint32_t kinds;         /* mask of enum kv_kind this plugin can serve */
	const char *name;       /* must equal the file's basename */
	const char *version;    /* "MAJOR.MINOR.PATCH" */
	const char *summary;    /* one line */
	const struct kv_param_decl *params;  /* ends with a { NULL } entry */
	/* Read params, allocate state.  May be NULL. */
	int (*open)(const struct kv_host *host, struct kv_ctx *ctx, void **state);
	/* Score every team. */
	int (*evaluate)(void *state, const struct kv_host *host, struct kv_ctx *ctx);
	/* Free state; called after a successful open.  May be NULL. */
	void (*close)(void *state);

	/* === since 1.1 (append only, as in struct kv_host) ================== */
	/* (1.1) sizeof(struct kv_param_decl) as compiled: the stride of params.
	 * A 1.0 descriptor lacks it; the core then, as for 0, uses 1.0's size. */
	uint32_t param_decl_size;
	/* (1.1, appended) Resampling, for `kaieval robustness`.  resample_unit
	 * names what the plugin resamples ("expert", "rater", "judge", "run"),
	 * or, with resample_unit_of below, the units it may name ("rater|judge");
	 * NULL, or a descriptor without these members, is never resampled.
	 * When the core asks for replicates it keeps the state open after
	 * evaluate and calls resample once per replicate, then close.  resample
	 * redraws the units from what evaluate kept in the state (it reads no
	 * file: the host's input functions are not for it), draws only from
	 * host->rng_stream(ctx, "resample", replicate, ...), and sets the
	 * replicate's outcomes with set_value / set_normalized only.  Returns 0
	 * or a KV_ERR_* status (error recorded), as evaluate. */
	const char *resample_unit;
	int (*resample)(void *state, const struct kv_host *host, struct kv_ctx *ctx,
			uint64_t replicate);
	/* (1.1, appended) Leave one out, under the same rules as resample (the
	 * core calls it only where resample is set too): set the outcomes the
	 * criterion would have without its unit number `unit` (0, 1, ...) and
	 * point *unit_id at that unit's id (a string the state owns); past the
	 * last unit set *unit_id to NULL and nothing else.  May be NULL. */
	int (*leave_out)(void *state, const struct kv_host *host, struct kv_ctx *ctx, size_t unit,
			 const char **unit_id);
	/* (1.1, appended) The unit of this criterion, where it depends on the
	 * criterion's params (the votes plugin: "rater" or "judge" by method).
	 * Called after a successful evaluate with the kept state: set *unit to
	 * one of the units resample_unit lists ("a|b"), or to NULL when this
	 * criterion is not resampled.  Returns 0 or a KV_ERR_* status.  NULL:
	 * resample_unit, a single unit, holds for every criterion. */
	int (*resample_unit_of)(void *state, const char **unit);
};

/* Does this descriptor have `member`?  (The core's own check.) */
#define KV_PLUGIN_HAS(desc, member) \
	((desc)->size >= offsetof(struct kv_plugin, member) + sizeof((desc)->member))

/* The descriptor of plugin `id` (a C identifier, the file's basename):
 * exports kaieval_plugin_<id> with .name = "<id>" and fills the fields
 * that come from this header (abi_version, size, param_decl_size).  The
 * other fields follow as designated initializers (C: C++ wants
 * designators in member order, so a C++ plugin writes the struct out):
 *
 *     KAIEVAL_PLUGIN_DEFINE(ratio,
 *             .kinds = KV_KIND_SCORE, .version = "1.0.0", .summary = "...",
 *             .params = params, .evaluate = ratio_evaluate);
 */
#define KAIEVAL_PLUGIN_DEFINE(id, ...) \
	KV_PLUGIN_EXPORT const struct kv_plugin kaieval_plugin_##id = { \
		.abi_version = KV_ABI_VERSION, \
		.size = sizeof(struct kv_plugin), \
		.name = #id, \
		.param_decl_size = sizeof(struct kv_param_decl), \
		__VA_ARGS__ \
	}

/* --- xoshiro256** (Blackman and Vigna, public domain) ------------------- */
static inline uint64_t kv_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t kv_rng_next(struct kv_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = kv_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = kv_rng_rotl(s[3], 45);
	return result;
}

/* Uniform double in [0, 1): the upper 53 bits, exact. */
static inline double kv_rng_uniform(struct kv_rng *r)
{
	return (double)(kv_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0, by rejection (no modulo bias). */
static inline uint64_t kv_rng_below(struct kv_rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = kv_rng_next(r);
	while (x >= limit);
	return x % n;
}

#ifdef __cplusplus
}
#endif
#endif /* KAIEVAL_PLUGIN_H */
