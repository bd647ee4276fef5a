/* votes, method pairwise: the params that say which models take part.
 *
 * The fit's models are the teams' (team i plays models.<team id>, or its
 * id) and then the anchors: models that are not teams of the round (the
 * frontier models a programme measures against) but whose battles inform
 * the ratings.  reference_team or reference_model names the model every
 * team's normalized score is the win probability against. */
#include "pairwise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *votes_pw_label(const struct pw *pw, size_t i, char *buf, size_t len)
{
	if (i < pw->teams)
		snprintf(buf, len, "team '%s' (model '%s')", pw->h->team_id(pw->ctx, i), pw->names[i].s);
	else
		snprintf(buf, len, "anchor '%s'", pw->names[i].s);
	return buf;
}

int votes_pw_nomem(const struct pw *pw, const char *what)
{
	pw->h->error(pw->ctx, "out of memory: could not allocate %s", what);
	return KV_ERR_INTERNAL;
}

static int read_models(struct pw *pw)
{
	const struct kv_host *h = pw->h;
	const struct kv_value *models = h->param(pw->ctx, "models");
	for (size_t i = 0; i < pw->teams; i++)
		pw->names[i].s = h->team_id(pw->ctx, i);
	for (size_t m = 0; m < h->value_count(models); m++) {
		const struct kv_value *v = h->value_at(models, m);
		long t = h->team_index(pw->ctx, h->value_name(v));
		if (t < 0)
			return h->value_error(pw->ctx, v, "no team '%s' in this round", h->value_name(v));
		if (!h->value_string(v) || !*h->value_string(v))
			return h->value_error(pw->ctx, v, "must be a non-empty string (the model name in the battle file)");
		pw->names[t].s = h->value_string(v);
	}
	for (size_t i = 0; i < pw->teams; i++) {
		votes_name_init(&pw->names[i], pw->names[i].s);
		for (size_t j = 0; j < i; j++)
			if (strcmp(pw->names[i].s, pw->names[j].s) == 0)
				return h->value_error(pw->ctx, models, "teams '%s' and '%s' both play model '%s'",
						      h->team_id(pw->ctx, j), h->team_id(pw->ctx, i), pw->names[i].s);
	}
	return KV_OK;
}

/* Anchor a is model teams + a: a name no team plays and no other anchor repeats. */
static int read_anchors(struct pw *pw, const struct kv_value *anchors)
{
	const struct kv_host *h = pw->h;
	for (size_t a = 0; a < h->value_count(anchors); a++) {
		const struct kv_value *v = h->value_at(anchors, a);
		const char *s = h->value_string(v);
		size_t i = pw->teams + a;
		if (!s || !*s)
			return h->value_error(pw->ctx, v, "anchors: must be a non-empty string (a model name in the battle file)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(s, pw->names[j].s) == 0)
				return j < pw->teams
				       ? h->value_error(pw->ctx, v, "anchors: model '%s' is team '%s''s model; an anchor is a model "
							"that is not a team of the round", s, h->team_id(pw->ctx, j))
				       : h->value_error(pw->ctx, v, "anchors: '%s' is listed twice", s);
		votes_name_init(&pw->names[i], s);
	}
	return KV_OK;
}

/* reference_team (a team id) or reference_model (a team's model or an anchor). */
static int read_reference(struct pw *pw)
{
	const struct kv_host *h = pw->h;
	const struct kv_value *team = h->param(pw->ctx, "reference_team");
	const struct kv_value *model = h->param(pw->ctx, "reference_model");
	pw->ref = pw->k;
	if (team && model)
		return h->value_error(pw->ctx, model, "reference_model: give reference_team or reference_model, not both");
	if (team) {
		long t = h->team_index(pw->ctx, h->value_string(team));
		if (t < 0)
			return h->value_error(pw->ctx, team, "no team '%s' in this round", h->value_string(team));
		pw->ref = (size_t)t;
	}
	for (size_t i = 0; model && i < pw->k; i++)
		if (strcmp(pw->names[i].s, h->value_string(model)) == 0)
			pw->ref = i;
	if (model && pw->ref == pw->k) {
		const char *name = h->value_string(model);
		char hint[600];
		votes_model_hint(h, pw->ctx, pw->names, name, strlen(name), hint, sizeof hint);
		return h->value_error(pw->ctx, model, "reference_model: '%s' is neither a team's model nor an anchor (see "
				      "params 'models' and 'anchors')%s", name, hint);
	}
	return KV_OK;
}

static int read_options(struct pw *pw, const struct votes_common *c)
{
	const struct kv_host *h = pw->h;
	const struct kv_value *prior = h->param(pw->ctx, "prior");
	const char *unit = h->value_string(h->param(pw->ctx, "bootstrap_unit"));
	const char *unknown = h->value_string(h->param(pw->ctx, "unknown_models"));
	pw->bootstrap = c->bootstrap;
	pw->by_battle = unit && strcmp(unit, "battle") == 0;
	pw->t.keep_ballots = 1;
	pw->t.ignore_unknown = unknown && strcmp(unknown, "ignore") == 0;
	h->value_bool(h->param(pw->ctx, "anonymous_only"), &pw->t.anonymous_only);
	h->value_bool(h->param(pw->ctx, "require_question_id"), &pw->t.require_question);
	if (prior && (!h->value_double(prior, &pw->prior) || !(pw->prior >= 0 && pw->prior <= 1e6)))
		return h->value_error(pw->ctx, prior, "prior: must be between 0 and 1000000 (ties added between every two "
				      "models)");
	return KV_OK;
}

int votes_pw_params(struct pw *pw, const struct votes_common *c)
{
	const struct kv_host *h = pw->h;
	const struct kv_value *anchors = h->param(pw->ctx, "anchors");
	pw->path = h->value_string(h->param(pw->ctx, "battles"));
	pw->teams = h->team_count(pw->ctx);
	pw->k = pw->teams + h->value_count(anchors);
	if (!pw->path)
		return h->error(pw->ctx, "method pairwise needs param 'battles'");
	if (pw->teams < 1 || pw->k < 2 || pw->k > VOTES_MAX_TEAMS)
		return h->error(pw->ctx, "method pairwise needs between 2 and %d models (teams and anchors), not %zu",
				VOTES_MAX_TEAMS, pw->k);
	pw->names = calloc(pw->k, sizeof *pw->names);
	if (!pw->names)
		return votes_pw_nomem(pw, "the model names");
	pw->t.k = pw->k;
	pw->t.names = pw->names;
	int rc = read_options(pw, c);
	if (rc == KV_OK)
		rc = read_models(pw);
	if (rc == KV_OK)
		rc = read_anchors(pw, anchors);
	return rc == KV_OK ? read_reference(pw) : rc;
}
