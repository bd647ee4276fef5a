/* expert: shared declarations of the expert-panel plugin (criteria.md, "expert").
 *
 * expert.c  descriptor, params, evaluate (rubric / checkbox / approval)
 * sheet.c   reading the score sheet and the recusal file into a panel
 * stats.c   trimmed mean, Krippendorff's alpha, rater-versus-rest statistics
 *
 * Everything here is internal; names carry an expert_ prefix so that the
 * sources can be linked statically next to other plugins in one test. */
#ifndef KAIEVAL_EXPERT_H
#define KAIEVAL_EXPERT_H

#include <kaieval/plugin.h>

#include <stddef.h>

enum expert_mode { EXPERT_RUBRIC, EXPERT_CHECKBOX, EXPERT_APPROVAL };
enum expert_fail { EXPERT_FAIL_ANY, EXPERT_FAIL_MAJORITY, EXPERT_FAIL_AT_LEAST };

/* One rubric item; checkbox/approval use a single item with max 1. */
struct expert_item {
	const char *id;
	const char *category;
	size_t category_index;
	double max;
};

/* The params, checked (strings point into host values: valid until evaluate returns). */
struct expert_config {
	enum expert_mode mode;
	const char *sheet;
	const char *recuse;          /* NULL: nobody recused */
	struct expert_item *items;
	size_t item_count;
	const char **categories;     /* distinct, in the order items name them */
	size_t category_count;
	const char **experts;        /* the declared panel, sorted; NULL when not given */
	size_t expert_count;
	const char **ignored;        /* sheet items this criterion skips */
	size_t ignored_count;
	long long trim, trim_min;
	int skip_missing;
	enum expert_fail fail_rule;
	long long fail_at_least;
};

/* The scores as read: cells [team][expert][item] and recusals [team][expert].
 * Experts are sorted bytewise by id, so index order is id order. */
struct expert_panel {
	char **experts;
	size_t expert_count;
	size_t team_count, item_count;
	double *score;
	unsigned char *has;          /* 1 when the cell was scored */
	unsigned char *recused;
};

static inline size_t expert_cell(const struct expert_panel *p, size_t team, size_t expert, size_t item)
{
	return (team * p->expert_count + expert) * p->item_count + item;
}

int expert_read_config(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg);
void expert_free_config(struct expert_config *cfg);

/* Read sheet and recusal file into *panel; missing cells are checked here too. */
int expert_read_panel(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg,
		      struct expert_panel *panel);
void expert_free_panel(struct expert_panel *panel);

/* --- statistics (stats.c): arithmetic only, except where marked ------------ */

/* A value with the index of the expert who gave it. */
struct expert_scored {
	double value;
	size_t expert;
};

/* Sort xs by (value, expert) and average the middle: `trim` values are dropped
 * from each end when at least trim_min values are there (the caller checks
 * trim_min > 2 * trim).  *dropped = values dropped from each end (0 or trim). */
double expert_trimmed_mean(struct expert_scored *xs, size_t n, long long trim, long long trim_min,
			   size_t *dropped);

/* Krippendorff's alpha, interval metric.  values holds the units one after
 * another; sizes[u] values belong to unit u.  Units with one value are not
 * pairable and count for nothing.  Returns 1 and sets *alpha when defined
 * (some pairable values, not all equal), else 0.  *pairable = values counted. */
int expert_alpha_interval(const double *values, const size_t *sizes, size_t units,
			  double *alpha, size_t *pairable);

/* Expert e against the rest of the panel over the teams where e has a value
 * and someone else has one too: mean of (x_e - mean of the others) and the
 * Pearson correlation of x_e with that mean (uses sqrt; evidence only). */
struct expert_rater_stats {
	size_t teams;
	double mean_deviation;
	int has_correlation;
	double correlation;
};

void expert_rater_vs_rest(const double *x, const unsigned char *has, size_t teams, size_t experts,
			  size_t e, struct expert_rater_stats *out);

#endif
