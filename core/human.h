/* Numbers and text widths for people: what explain, diff, verify, whatif
 * and the terminal table print.  Records and CSV keep exact values. */
#ifndef KV_HUMAN_H
#define KV_HUMAN_H

#include <stddef.h>
#include <stdio.h>

/* Significant digits a person is shown (the display precision). */
#define KV_HUMAN_DIGITS 6

/* x rounded to KV_HUMAN_DIGITS significant digits, plain decimals without
 * trailing zeros ("90.206", "27.8", "72"); whole numbers from 10^6 up as
 * integers; "-0" never. */
void kv_format_human(double x, char out[32]);

/* Two values as a person reads a change: rounded; when rounding shows them
 * equal, out_b also gives the difference ("0.171111 (+5.6e-15)"). */
#define KV_CHANGE_MAX 64
void kv_format_change(double a, double b, char out_a[32], char out_b[KV_CHANGE_MAX]);

/* Columns a UTF-8 string takes on a terminal: East Asian wide characters
 * (Hangul, CJK) take two, combining marks none, others one. */
size_t kv_display_width(const char *s);

/* Print s left-aligned (width > 0) or right-aligned (width < 0) in that
 * many columns, by display width. */
void kv_print_padded(FILE *out, const char *s, int width);

/* width, or s's display width where that is more: a column as wide as
 * its widest cell. */
int kv_wider(int width, const char *s);

#endif
