// SPDX-License-Identifier: BSD-2-Clause
/*
 * printf.c - formatted output without a C library.
 *
 * pc_vformat() is the single formatting engine: it walks the format and
 * hands every output character to a callback, so the same code serves the
 * console (cons.c) and pc_vsnprintf().  It implements the subset described
 * in pc.h; unknown conversions are printed literally so a mistake shows up
 * in the output instead of consuming arguments silently.
 */
#include "pc_internal.h"

struct pc_fmt {
	pc_putc_fn f_out;
	void *f_arg;
	int f_count;
	/* current conversion */
	bool f_left, f_zero, f_plus, f_space, f_alt;
	int f_width;
	int f_prec;             /* -1: none */
};

static void
fmt_putc(struct pc_fmt *f, int c)
{
	f->f_out(c, f->f_arg);
	f->f_count++;
}

static void
fmt_pad(struct pc_fmt *f, int c, int n)
{
	while (n-- > 0)
		fmt_putc(f, c);
}

static void
fmt_string(struct pc_fmt *f, const char *s)
{
	int len;

	if (s == NULL)
		s = "(null)";
	len = (int)strnlen(s, f->f_prec >= 0 ? (size_t)f->f_prec : (size_t)-1);
	if (!f->f_left)
		fmt_pad(f, ' ', f->f_width - len);
	for (int i = 0; i < len; i++)
		fmt_putc(f, s[i]);
	if (f->f_left)
		fmt_pad(f, ' ', f->f_width - len);
}

/* Digits of v in base, after prefix (sign or 0x), padded per f. */
static void
fmt_number(struct pc_fmt *f, uint64_t v, unsigned base, bool upper,
    const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int nd = 0, ndigits, plen, total;

	if (v == 0 && f->f_prec == 0) {
		/* "%.0d" of 0 prints no digits. */
	} else {
		do {
			buf[nd++] = digits[v % base];
			v /= base;
		} while (v != 0);
	}
	ndigits = PC_MAX(nd, f->f_prec);
	plen = (int)strlen(prefix);
	total = ndigits + plen;

	if (!f->f_left && !(f->f_zero && f->f_prec < 0))
		fmt_pad(f, ' ', f->f_width - total);
	for (int i = 0; i < plen; i++)
		fmt_putc(f, prefix[i]);
	if (!f->f_left && f->f_zero && f->f_prec < 0)
		fmt_pad(f, '0', f->f_width - total);
	fmt_pad(f, '0', ndigits - nd);
	while (nd > 0)
		fmt_putc(f, buf[--nd]);
	if (f->f_left)
		fmt_pad(f, ' ', f->f_width - total);
}

enum fmt_len { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE,
    LEN_INTMAX, LEN_PTRDIFF };

static int64_t
fmt_signed_arg(enum fmt_len len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR:    return (signed char)va_arg(*ap, int);
	case LEN_SHORT:   return (short)va_arg(*ap, int);
	case LEN_LONG:    return va_arg(*ap, long);
	case LEN_LLONG:   return va_arg(*ap, long long);
	case LEN_SIZE:    return (int64_t)va_arg(*ap, size_t);
	case LEN_INTMAX:  return va_arg(*ap, intmax_t);
	case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	default:          return va_arg(*ap, int);
	}
}

static uint64_t
fmt_unsigned_arg(enum fmt_len len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR:    return (unsigned char)va_arg(*ap, unsigned);
	case LEN_SHORT:   return (unsigned short)va_arg(*ap, unsigned);
	case LEN_LONG:    return va_arg(*ap, unsigned long);
	case LEN_LLONG:   return va_arg(*ap, unsigned long long);
	case LEN_SIZE:    return va_arg(*ap, size_t);
	case LEN_INTMAX:  return va_arg(*ap, uintmax_t);
	case LEN_PTRDIFF: return (uint64_t)va_arg(*ap, ptrdiff_t);
	default:          return va_arg(*ap, unsigned);
	}
}

int
pc_vformat(pc_putc_fn out, void *arg, const char *fmt, va_list ap0)
{
	struct pc_fmt f = { .f_out = out, .f_arg = arg };
	va_list ap;

	va_copy(ap, ap0);
	while (*fmt != '\0') {
		const char *start = fmt;
		enum fmt_len len = LEN_INT;

		if (*fmt != '%') {
			fmt_putc(&f, *fmt++);
			continue;
		}
		fmt++;
		f.f_left = f.f_zero = f.f_plus = f.f_space = f.f_alt = false;
		f.f_width = 0;
		f.f_prec = -1;

		for (;; fmt++) {
			if (*fmt == '-')
				f.f_left = true;
			else if (*fmt == '0')
				f.f_zero = true;
			else if (*fmt == '+')
				f.f_plus = true;
			else if (*fmt == ' ')
				f.f_space = true;
			else if (*fmt == '#')
				f.f_alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			f.f_width = va_arg(ap, int);
			if (f.f_width < 0) {
				f.f_left = true;
				f.f_width = -f.f_width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				f.f_width = f.f_width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			f.f_prec = 0;
			if (*fmt == '*') {
				f.f_prec = va_arg(ap, int);
				if (f.f_prec < 0)
					f.f_prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					f.f_prec = f.f_prec * 10 + (*fmt++ - '0');
			}
		}
		switch (*fmt) {
		case 'h':
			fmt++;
			len = LEN_SHORT;
			if (*fmt == 'h') {
				fmt++;
				len = LEN_CHAR;
			}
			break;
		case 'l':
			fmt++;
			len = LEN_LONG;
			if (*fmt == 'l') {
				fmt++;
				len = LEN_LLONG;
			}
			break;
		case 'z': fmt++; len = LEN_SIZE; break;
		case 'j': fmt++; len = LEN_INTMAX; break;
		case 't': fmt++; len = LEN_PTRDIFF; break;
		default: break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = fmt_signed_arg(len, &ap);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			const char *pfx = v < 0 ? "-" :
			    f.f_plus ? "+" : f.f_space ? " " : "";
			fmt_number(&f, mag, 10, false, pfx);
			break;
		}
		case 'u':
			fmt_number(&f, fmt_unsigned_arg(len, &ap), 10, false,
			    "");
			break;
		case 'x':
		case 'X': {
			uint64_t v = fmt_unsigned_arg(len, &ap);
			const char *pfx = (f.f_alt && v != 0) ?
			    (*fmt == 'x' ? "0x" : "0X") : "";
			fmt_number(&f, v, 16, *fmt == 'X', pfx);
			break;
		}
		case 'o': {
			uint64_t v = fmt_unsigned_arg(len, &ap);
			fmt_number(&f, v, 8, false, (f.f_alt && v != 0) ? "0" : "");
			break;
		}
		case 'p': {
			uint64_t v = (uintptr_t)va_arg(ap, void *);
			f.f_prec = 16;
			f.f_zero = false;
			fmt_number(&f, v, 16, false, "0x");
			break;
		}
		case 'c': {
			char s[2] = { (char)va_arg(ap, int), '\0' };
			f.f_prec = 1;
			fmt_string(&f, s);
			break;
		}
		case 's':
			fmt_string(&f, va_arg(ap, const char *));
			break;
		case '%':
			fmt_putc(&f, '%');
			break;
		default:
			/* Unknown: print the directive as written. */
			while (start < fmt)
				fmt_putc(&f, *start++);
			if (*fmt == '\0')
				continue;
			fmt_putc(&f, *fmt);
			break;
		}
		fmt++;
	}
	va_end(ap);
	return f.f_count;
}

struct pc_sbuf {
	char *sb_buf;
	size_t sb_size;
	size_t sb_len;
};

static void
sbuf_putc(int c, void *arg)
{
	struct pc_sbuf *sb = arg;

	if (sb->sb_len + 1 < sb->sb_size)
		sb->sb_buf[sb->sb_len] = (char)c;
	sb->sb_len++;
}

int
pc_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct pc_sbuf sb = { buf, n, 0 };
	int r = pc_vformat(sbuf_putc, &sb, fmt, ap);

	if (n > 0)
		buf[PC_MIN(sb.sb_len, n - 1)] = '\0';
	return r;
}

int
pc_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pc_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
