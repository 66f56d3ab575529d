/*
 * Header encoders: folding, RFC 2047 encoded-words, display names,
 * RFC 2231 parameters and the date.
 *
 * Standards: RFC 5322 (2.2.3 folding, 3.2.3 atoms, 3.2.4 quoted
 * strings, 3.2.5 phrases, 3.3 date-time), RFC 2047 (2 word length,
 * 4.2 Q encoding, 5 where words may go), RFC 2231 (3 continuations,
 * 4 charset, 7 attribute-char).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* RFC 2047 section 2: an encoded-word is at most 75 characters. */
#define EW_MAX 75
#define EW_OVERHEAD 12      /* "=?UTF-8?Q?" and "?=" */

/* Below this many free columns a new word goes on a new line. */
#define EW_MIN_ROOM 24

/* ---------------------------------------------------------------------- */
/* Folding                                                                */
/* ---------------------------------------------------------------------- */

int rm__fold_start(rm__fold *f, rm__buf *out, const char *name)
{
	f->out = out;
	f->limit = 76;
	f->reserve = 0;
	f->started = 0;
	f->line = strlen(name) + 1;
	if (rm__buf_append_str(out, name) != RM_OK)
		return RM_ENOMEM;
	return rm__buf_append_byte(out, ':');
}

/* Octets left on the current line for an atom after wslen of space. */
static size_t fold_room(const rm__fold *f, size_t wslen)
{
	size_t used = f->line + wslen + f->reserve;

	return used >= f->limit ? 0 : f->limit - used;
}

static int fold_break(rm__fold *f)
{
	f->line = 0;
	return rm__buf_append(f->out, "\r\n", 2);
}

int rm__fold_atom(rm__fold *f, const char *ws, size_t wslen,
                  const char *atom, size_t alen)
{
	int rc;

	/* Fold only at white space (RFC 5322 2.2.3), never right after the
	 * field name unless the first atom cannot fit there. */
	if (wslen > 0 && alen > fold_room(f, wslen) &&
	    (f->started || f->line > 40)) {
		rc = fold_break(f);
		if (rc != RM_OK)
			return rc;
	}
	rc = rm__buf_append(f->out, ws, wslen);
	if (rc == RM_OK)
		rc = rm__buf_append(f->out, atom, alen);
	f->line += wslen + alen;
	f->started = 1;
	return rc;
}

int rm__fold_raw(rm__fold *f, const char *text)
{
	f->line += strlen(text);
	return rm__buf_append_str(f->out, text);
}

int rm__fold_end(rm__fold *f)
{
	return fold_break(f);
}

/* ---------------------------------------------------------------------- */
/* RFC 2047 encoded-words                                                 */
/* ---------------------------------------------------------------------- */

/*
 * Q text that is safe in every place a word may go, phrases included
 * (RFC 2047 5 (3)): letters, digits and "!*+-/". Space becomes "_".
 */
static int q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/';
}

static size_t q_cost(unsigned char c)
{
	return q_plain(c) || c == ' ' ? 1 : 3;
}

/* The length of the UTF-8 sequence led by c; text is already valid. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0xC0)
		return 1;
	if (c < 0xE0)
		return 2;
	return c < 0xF0 ? 3 : 4;
}

/* 1 if B encoding is shorter than Q for the whole text. */
static int prefer_b(const unsigned char *p, size_t len)
{
	size_t i, q = 0;

	for (i = 0; i < len; i++)
		q += q_cost(p[i]);
	return (len + 2) / 3 * 4 < q;
}

/* How many bytes of p, whole characters only, fit in room characters of
 * encoded text. */
static size_t ew_fit(const unsigned char *p, size_t len, int b, size_t room)
{
	size_t used = 0, cost = 0;

	while (used < len) {
		size_t n = utf8_len(p[used]), i, c = 0;

		if (n > len - used)
			n = len - used;
		if (b) {
			c = (used + n + 2) / 3 * 4;
		} else {
			for (i = 0; i < n; i++)
				c += q_cost(p[used + i]);
			c += cost;
		}
		if (c > room)
			break;
		cost = c;
		used += n;
	}
	return used;
}

/* Writes one encoded-word for p[0..len) into dst; returns its length. */
static size_t ew_encode(char *dst, const unsigned char *p, size_t len, int b)
{
	size_t i, n;

	memcpy(dst, b ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
	n = 10;
	if (b) {
		rm__buf tmp;

		rm__buf_init(&tmp, 128);
		if (rm__base64_encode(&tmp, p, len) == RM_OK) {
			memcpy(dst + n, tmp.data, tmp.len);
			n += tmp.len;
		}
		rm__buf_free(&tmp);
	} else {
		for (i = 0; i < len; i++) {
			if (p[i] == ' ') {
				dst[n++] = '_';
			} else if (q_plain(p[i])) {
				dst[n++] = (char)p[i];
			} else {
				dst[n++] = '=';
				dst[n++] = rm__hex_upper[p[i] >> 4];
				dst[n++] = rm__hex_upper[p[i] & 15];
			}
		}
	}
	memcpy(dst + n, "?=", 2);
	return n + 2;
}

/* The encoded length of all of p as one word's text. */
static size_t ew_cost(const unsigned char *p, size_t len, int b)
{
	size_t i, q = 0;

	if (b)
		return (len + 2) / 3 * 4;
	for (i = 0; i < len; i++)
		q += q_cost(p[i]);
	return q;
}

/*
 * Room for the encoded text of the next word. The line is folded first
 * when it has little room left, or when the rest of the text would fit
 * in one word on a new line but not here: a display name split into two
 * words reads back with a space inside in some parsers.
 */
static int ew_room(rm__fold *f, size_t extra, size_t rest, size_t *room)
{
	size_t left = fold_room(f, 1), full = f->limit - 1 - f->reserve;
	int rc;

	if (full > EW_MAX)
		full = EW_MAX;
	if ((left < EW_MIN_ROOM + extra ||
	     (rest + EW_OVERHEAD + extra > left &&
	      rest + EW_OVERHEAD + extra <= full)) &&
	    (f->started || f->line > 40)) {
		rc = fold_break(f);
		if (rc != RM_OK)
			return rc;
		left = fold_room(f, 1);
	}
	if (left > EW_MAX)
		left = EW_MAX;
	*room = left > EW_OVERHEAD + extra + 12 ?
	        left - EW_OVERHEAD - extra : 12;
	return RM_OK;
}

int rm__fold_words(rm__fold *f, const char *ws, const char *text,
                   size_t len, const char *prefix, const char *suffix)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t pos = 0, plen = strlen(prefix), slen = strlen(suffix);
	int b = prefer_b(p, len), rc = RM_OK;
	char word[EW_MAX + 64];

	while (rc == RM_OK && pos < len) {
		size_t room, take, n = 0;

		rc = ew_room(f, (pos == 0 ? plen : 0) + slen,
		             ew_cost(p + pos, len - pos, b), &room);
		if (rc != RM_OK)
			break;
		take = ew_fit(p + pos, len - pos, b, room);
		if (take == 0)
			take = utf8_len(p[pos]);
		if (pos == 0) {
			memcpy(word, prefix, plen);
			n = plen;
		}
		n += ew_encode(word + n, p + pos, take, b);
		pos += take;
		if (pos >= len) {
			memcpy(word + n, suffix, slen);
			n += slen;
		}
		rc = rm__fold_atom(f, ws, 1, word, n);
		ws = " ";
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Unstructured text                                                      */
/* ---------------------------------------------------------------------- */

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static size_t span_wsp(const char *s, size_t len, size_t i)
{
	while (i < len && is_wsp(s[i]))
		i++;
	return i;
}

static size_t span_word(const char *s, size_t len, size_t i)
{
	while (i < len && !is_wsp(s[i]))
		i++;
	return i;
}

/* 1 if a word must be an encoded-word: non-ASCII, something a reader
 * could decode as a word ("=?"), or too long for any line. */
static int word_needs_encoding(const char *w, size_t len, size_t long_word)
{
	size_t i;

	if (len > long_word)
		return 1;
	for (i = 0; i < len; i++) {
		if ((unsigned char)w[i] >= 0x80)
			return 1;
		if (w[i] == '=' && i + 1 < len && w[i + 1] == '?')
			return 1;
	}
	return 0;
}

/* The end of a run of words that all need encoding, starting at the
 * word [start, end): the white space between them joins the run, and so
 * does a word after white space too long to fold (see rm__fold_text). */
static size_t run_end(const char *s, size_t len, size_t end,
                      size_t long_word)
{
	for (;;) {
		size_t w = span_wsp(s, len, end), e = span_word(s, len, w);

		if (e == w || (!word_needs_encoding(s + w, e - w, long_word) &&
		               w - end <= EW_MAX))
			return end;
		end = e;
	}
}

int rm__fold_text(rm__fold *f, const char *text, size_t len,
                  size_t long_word)
{
	size_t i = span_wsp(text, len, 0);
	int first = 1, rc = RM_OK;

	/* Leading white space is not kept: readers drop it anyway. */
	while (rc == RM_OK && i < len) {
		size_t start = span_wsp(text, len, i);
		size_t end = span_word(text, len, start);

		if (start == end)
			break;
		/* White space folds at most once (RFC 5322 3.2.2 FWS), so a
		 * run too long for a line goes inside encoded-words. */
		if (word_needs_encoding(text + start, end - start, long_word) ||
		    (!first && start - i > EW_MAX)) {
			/* One separator stays outside; extra white space
			 * goes into the word so decoding keeps it (RFC 2047
			 * 6.2). */
			size_t from = first ? start : i + 1;
			const char *sep = !first && text[i] == '\t' ? "\t" :
			                  " ";

			end = run_end(text, len, end, long_word);
			rc = rm__fold_words(f, sep, text + from, end - from, "",
			                    "");
		} else if (first) {
			rc = rm__fold_atom(f, " ", 1, text + start,
			                   end - start);
		} else {
			rc = rm__fold_atom(f, text + i, start - i, text + start,
			                   end - start);
		}
		first = 0;
		i = end;
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Display names (RFC 5322 3.2.5 phrase)                                  */
/* ---------------------------------------------------------------------- */

static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 if the name can go as plain atoms: atext words with single spaces. */
static int phrase_is_atoms(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ' && s[i + 1] == ' ')
			return 0;
		if (s[i] != ' ' && !is_atext((unsigned char)s[i]))
			return 0;
		if (s[i] == '=' && i + 1 < len && s[i + 1] == '?')
			return 0;
	}
	return 1;
}

static int has_high(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* Folds words of s at its spaces; the first word is preceded by " ". */
static int fold_split(rm__fold *f, const char *s, size_t len)
{
	size_t i = 0;
	int rc = RM_OK;

	while (rc == RM_OK && i < len) {
		size_t w = i == 0 ? 0 : span_wsp(s, len, i);
		size_t e = span_word(s, len, w);

		if (i == 0)
			rc = rm__fold_atom(f, " ", 1, s, e);
		else
			rc = rm__fold_atom(f, s + i, w - i, s + w, e - w);
		i = e;
	}
	return rc;
}

/* 1 if some word of s, or some run of white space, is longer than max
 * (white space folds at most once, RFC 5322 3.2.2). */
static int has_long_word(const char *s, size_t len, size_t max)
{
	size_t i = 0;

	while (i < len) {
		size_t w = span_wsp(s, len, i), e = span_word(s, len, w);

		if (e - w > max || w - i > max)
			return 1;
		i = e;
	}
	return 0;
}

int rm__fold_phrase(rm__fold *f, const char *name)
{
	size_t len = strlen(name);
	rm__buf q;
	int rc;

	if (phrase_is_atoms(name, len) && !has_long_word(name, len, EW_MAX))
		return fold_split(f, name, len);

	/* Readers decode "=?...?=" even inside quotes: such a name is
	 * encoded so that it reads back as written. */
	if (has_high(name, len) || strstr(name, "=?") != NULL)
		return rm__fold_words(f, " ", name, len, "", "");

	rm__buf_init(&q, 4 * len + 16);
	/* A quoted-string is folded inside only when it cannot fit on a
	 * line: some readers mishandle folds within quotes. */
	rc = rm__buf_append_quoted(&q, name, len);
	if (rc == RM_OK && has_long_word(q.data, q.len, EW_MAX))
		rc = rm__fold_words(f, " ", name, len, "", "");
	else if (rc == RM_OK && q.len < f->limit)
		rc = rm__fold_atom(f, " ", 1, q.data, q.len);
	else if (rc == RM_OK)
		rc = fold_split(f, q.data, q.len);
	rm__buf_free(&q);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* RFC 2231 parameters                                                    */
/* ---------------------------------------------------------------------- */

/* RFC 2231 7 attribute-char: not SPACE, CTLs, "*", "'", "%", tspecials. */
static int attr_char(unsigned char c)
{
	return c > 0x20 && c < 0x7F &&
	       strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

static int is_printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			return 0;
	return 1;
}

/* Appends "; " and then one parameter atom. */
static int param_atom(rm__fold *f, const char *atom, size_t len)
{
	int rc = rm__fold_raw(f, ";");

	f->reserve = 1;
	if (rc == RM_OK)
		rc = rm__fold_atom(f, " ", 1, atom, len);
	f->reserve = 0;
	return rc;
}

/*
 * Moves a segment end at i back so that no segment starts or ends with a
 * space: some readers trim each segment before joining them.
 */
static size_t segment_cut(const char *v, size_t i)
{
	size_t j = i;

	if (v[i] == '\0')
		return i;
	while (j > 1 && (v[j - 1] == ' ' || v[j] == ' '))
		j--;
	return j > 1 ? j : i;
}

/* How many octets of v the next continuation segment takes: as many as
 * fit in room after used octets once quoted, a quoted-pair never cut in
 * two. */
static size_t ascii_segment(const char *v, size_t used, size_t room)
{
	size_t i = 0, n = 0;

	while (v[i] != '\0') {
		n += v[i] == '"' || v[i] == '\\' ? 2 : 1;
		if (used + n > room)
			break;
		i++;
	}
	return segment_cut(v, i);
}

/* attr*0="..."; attr*1="..." (RFC 2231 3), for long ASCII values. */
static int param_ascii(rm__fold *f, const char *attr, const char *value)
{
	size_t n = 0, take;
	char head[96];
	rm__buf seg;
	int rc = RM_OK;

	rm__buf_init(&seg, 256);
	while (rc == RM_OK && *value != '\0') {
		int hl = snprintf(head, sizeof(head), "%s*%zu=", attr, n);

		rm__buf_reset(&seg);
		rc = rm__buf_append(&seg, head, (size_t)hl);
		/* used counts the opening quote. */
		take = ascii_segment(value, seg.len + 1,
		                     (size_t)f->limit - 4 - 1);
		if (rc == RM_OK)
			rc = rm__buf_append_quoted(&seg, value, take);
		value += take;
		if (rc == RM_OK)
			rc = param_atom(f, seg.data, seg.len);
		n++;
	}
	rm__buf_free(&seg);
	return rc;
}

/* The length of n bytes of v percent-encoded (at most up to its end). */
static size_t pct_len_n(const unsigned char *v, size_t n)
{
	size_t len = 0;

	for (; n > 0 && *v != '\0'; v++, n--)
		len += attr_char(*v) ? 1 : 3;
	return len;
}

static size_t pct_len(const unsigned char *v)
{
	return pct_len_n(v, (size_t)-1);
}

/*
 * Appends as many whole characters of *v, percent-encoded, as fit in
 * room: a segment never splits a %XX triplet, nor a UTF-8 sequence,
 * which some readers decode segment by segment.
 */
static int pct_segment(const unsigned char **v, rm__buf *seg, size_t room)
{
	const unsigned char *p = *v;
	int rc = RM_OK;

	while (rc == RM_OK && *p != '\0') {
		size_t n = utf8_len(*p), i;

		if (seg->len + pct_len_n(p, n) > room)
			break;
		for (i = 0; rc == RM_OK && i < n; i++, p++) {
			if (attr_char(*p))
				rc = rm__buf_append_byte(seg, (char)*p);
			else
				rc = rm__buf_append_pct(seg, *p);
		}
	}
	*v = p;
	return rc;
}

/* Percent-encoded values (RFC 2231 3, 4), continued when too long. */
static int param_extended(rm__fold *f, const char *attr, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t n = 0, room = (size_t)f->limit - 4 - 1;
	int single = 0, rc = RM_OK;
	rm__buf seg;

	rm__buf_init(&seg, 256);
	while (rc == RM_OK && *v != '\0') {
		rm__buf_reset(&seg);
		if (n == 0 && pct_len(v) + strlen(attr) + 9 <= room)
			single = 1;
		if (single)
			rc = rm__buf_printf(&seg, "%s*=utf-8''", attr);
		else
			rc = rm__buf_printf(&seg, "%s*%zu*=%s", attr, n,
			                    n == 0 ? "utf-8''" : "");
		if (rc == RM_OK)
			rc = pct_segment(&v, &seg, room);
		if (rc == RM_OK)
			rc = param_atom(f, seg.data, seg.len);
		n++;
	}
	rm__buf_free(&seg);
	return rc;
}

int rm__fold_param(rm__fold *f, const char *attr, const char *value)
{
	rm__buf q;
	int rc;

	/* Readers decode RFC 2047 words even inside quoted parameters, so a
	 * name holding "=?" goes percent-encoded to come back unchanged. */
	if (!is_printable_ascii(value) || strstr(value, "=?") != NULL)
		return param_extended(f, attr, value);

	rm__buf_init(&q, 4 * strlen(value) + 64);
	rc = rm__buf_printf(&q, "%s=", attr);
	if (rc == RM_OK)
		rc = rm__buf_append_quoted(&q, value, strlen(value));
	if (rc == RM_OK && q.len + 3 <= (size_t)f->limit)
		rc = param_atom(f, q.data, q.len);
	else if (rc == RM_OK)
		rc = param_ascii(f, attr, value);
	rm__buf_free(&q);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Date (RFC 5322 3.3)                                                    */
/* ---------------------------------------------------------------------- */

int rm__format_date(char *out, size_t size, time_t when, int offset_min)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t local = when + (time_t)offset_min * 60;
	int off = offset_min < 0 ? -offset_min : offset_min;
	struct tm tm;
	int n;

	/* English names from our own tables: strftime would follow the
	 * locale. The zone is always numeric (RFC 5322 3.3, 4.3). */
	if (offset_min <= -24 * 60 || offset_min >= 24 * 60 ||
	    gmtime_r(&local, &tm) == NULL)
		return RM_EINVAL;
	n = snprintf(out, size, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
	             days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	             offset_min < 0 ? '-' : '+', off / 60, off % 60);
	return n < 0 || (size_t)n >= size ? RM_ELIMIT : RM_OK;
}
