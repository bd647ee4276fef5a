#include "human.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static void strip_zeros(char *s)
{
	if (!strchr(s, '.'))
		return;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
}

void kv_format_human(double x, char out[32])
{
	double ax = fabs(x);
	if (!isfinite(x)) {
		snprintf(out, 32, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
		return;
	}
	if (ax >= 1e6) {
		snprintf(out, 32, "%.0f", x);
	} else if (ax >= 1e-4) {
		int decimals = KV_HUMAN_DIGITS - 1 - (int)floor(log10(ax));
		snprintf(out, 32, "%.*f", decimals < 0 ? 0 : decimals, x);
		strip_zeros(out);
	} else {
		snprintf(out, 32, "%.*g", KV_HUMAN_DIGITS, x);
	}
	if (strcmp(out, "-0") == 0 || x == 0)
		strcpy(out, "0");
}

void kv_format_change(double a, double b, char out_a[32], char out_b[KV_CHANGE_MAX])
{
	char rb[32];
	kv_format_human(a, out_a);
	kv_format_human(b, rb);
	if (a != b && strcmp(out_a, rb) == 0)
		snprintf(out_b, KV_CHANGE_MAX, "%s (%+.2g)", rb, b - a);
	else
		snprintf(out_b, KV_CHANGE_MAX, "%s", rb);
}

/* Decode one UTF-8 sequence at s; returns its length (1 for a bad byte). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
	*cp = len == 1 ? s[0] : s[0] & (0xFF >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return *cp = s[0], 1;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

static int char_width(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || (c >= 0x1160 && c <= 0x11FF))
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

size_t kv_display_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		p += utf8_next(p, &cp);
		w += (size_t)char_width(cp);
	}
	return w;
}

int kv_wider(int width, const char *s)
{
	size_t have = kv_display_width(s);
	return have > (size_t)width ? (int)have : width;
}

void kv_print_padded(FILE *out, const char *s, int width)
{
	size_t want = (size_t)(width < 0 ? -width : width), have = kv_display_width(s);
	if (width < 0)
		for (size_t i = have; i < want; i++)
			fputc(' ', out);
	fputs(s, out);
	if (width > 0)
		for (size_t i = have; i < want; i++)
			fputc(' ', out);
}
