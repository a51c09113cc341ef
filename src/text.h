/*
 * text.h - the character rules that the signer and the transport share
 * (signing core layer: libc only).
 *
 * One home for each rule: what a header name (an RFC 9110 token) and a
 * header value may hold, the character classes of SigV4 (percent-encoding,
 * blanks, scope strings), the lowercase hex encoding of bytes, and the shape
 * of an X-Amz-Date. sigv4.c, sign_call.c, http.c, crypto.c and the binding
 * call these; none keeps a copy.
 *
 * The classes are one 256-entry table of bit sets, so a check costs a load
 * and a test per byte (no search of a set of punctuation per byte).
 */
#ifndef FSX_TEXT_H
#define FSX_TEXT_H

#include <stddef.h>

#define FSX_C_TCHAR 0x01u      /* RFC 9110 tchar: header names, methods */
#define FSX_C_FIELD 0x02u      /* may be sent in a header value: HT, SP to '~', 0x80-0xff */
#define FSX_C_UNRESERVED 0x04u /* A-Z a-z 0-9 - . _ ~ (kept by percent-encoding) */
#define FSX_C_BLANK 0x08u      /* SP or HT */
#define FSX_C_UPPER 0x10u      /* A-Z */
#define FSX_C_HEXLOWER 0x20u   /* 0-9 a-f */
#define FSX_C_SCOPE 0x40u      /* printable ASCII but SP, '/' and ',' (credential scope parts) */
#define FSX_C_DIGIT 0x80u      /* 0-9 */

/* The FSX_C_* bits of each byte value. */
extern const unsigned char fsx_char_class[256];

/* 1 when byte c is in every class of the FSX_C_* set f. */
#define FSX_IS(c, f) ((fsx_char_class[(unsigned char)(c)] & (f)) == (f))

/* 1 when c is an RFC 9110 tchar. */
int fsx_is_tchar(unsigned char c);
/* 1 when s[0..len) is a token: one or more tchars (header names, methods). */
int fsx_is_token(const char *s, size_t len);
/*
 * 1 when v[0..len) may be sent as a header value: no control character
 * other than HT, and no DEL (so no CR, LF or NUL). Empty is fine.
 */
int fsx_is_field_value(const char *v, size_t len);
/* Write the 2 * n lowercase hex digits of in[0..n) at out (no NUL); returns out + 2 * n. */
char *fsx_hex(char *out, const unsigned char *in, size_t n);
/* 1 when s[0..len) is "YYYYMMDDTHHMMSSZ" with month 1-12, day 1-31, hour <= 23,
 * minute <= 59 and second <= 60. */
int fsx_is_amz_date(const char *s, size_t len);

#endif
