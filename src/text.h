/*
 * text.h - the character rules that the signer and the transport share
 * (signing core layer: libc only).
 *
 * One home for each rule: what a header name (an RFC 9110 token) and a
 * header value may hold, the lowercase hex encoding of bytes, and the shape
 * of an X-Amz-Date. sigv4.c, sign_call.c, http.c, crypto.c and the binding
 * call these; none keeps a copy.
 */
#ifndef FSX_TEXT_H
#define FSX_TEXT_H

#include <stddef.h>

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
