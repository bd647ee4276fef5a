/* kaieval robustness: how sure each decision of a round is, and the
 * smallest change of the points that flips it (kaieval(1), ROBUSTNESS). */
#ifndef KV_ROBUST_H
#define KV_ROBUST_H

int kv_cmd_robustness(int argc, char **argv);



#include <stddef.h>

/* The smallest change delta of points w (k criteria) that brings a team
 * ahead by d = x_ahead - x_behind (normalized scores) level with the one
 * behind: total kept, no negative points.  Returns the change's L2 or
 * L-infinity norm and fills delta, or INFINITY when no reweighting can
 * (the behind team is nowhere strictly ahead: kv_flip_feasible is 0). */
int kv_flip_feasible(const double *d, size_t k);
double kv_flip_l2(const double *w, const double *d, size_t k, double *delta);
double kv_flip_linf(const double *w, const double *d, size_t k, double *delta);

/* The weight flips a person is shown, of n pairs with their L2 (NaN: no
 * reweighting levels the pair): all of them, in order, up to
 * KV_FLIPS_SHOWN; of more, the KV_FLIPS_SHOWN closest that can be levelled,
 * closest first (a tie in the given order).  Fills order with their
 * indices and returns how many. */
#define KV_FLIPS_SHOWN 12
size_t kv_flips_shown(const double *l2, size_t n, size_t *order);
#endif
