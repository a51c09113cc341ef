/*
 * buf.h - growable byte buffer (signing core / transport helper layer).
 *
 * Pure C, no Lua, no curl, no OpenSSL in the interface. Every buffer that the
 * signer or the transport builds is a struct fsx_buf. A buffer owns its
 * memory; fsx_buf_free() releases it and may be called any number of times.
 * Buffers that may hold key material are released with fsx_buf_free_secure(),
 * which wipes the bytes before freeing them.
 *
 * All appending functions return 0 on success and -1 when memory could not be
 * obtained or the size would overflow; after a failure the buffer keeps its
 * previous contents and stays valid. The data is always NUL-terminated (the
 * terminator is not counted in len) once anything was appended.
 */
#ifndef FSX_BUF_H
#define FSX_BUF_H

#include <stddef.h>

struct fsx_buf {
    char *data; /* NULL until the first append */
    size_t len; /* bytes in use, not counting the NUL terminator */
    size_t cap; /* bytes allocated */
    int secret; /* may hold credentials: no byte is left behind (fsx_buf_init_secret) */
};

/* Set to the empty state; no allocation. */
void fsx_buf_init(struct fsx_buf *b);
/*
 * The same for a buffer that may hold credentials (a response body, header
 * lines, a canonical request): growing copies into a new block and wipes the
 * old one (no realloc leaving a copy behind), and reset and free wipe the
 * bytes, whatever the size.
 */
void fsx_buf_init_secret(struct fsx_buf *b);
/* Release memory and reset to the empty state; idempotent. */
void fsx_buf_free(struct fsx_buf *b);
/* Like fsx_buf_free, but wipes the allocated bytes first (OPENSSL_cleanse-grade). */
void fsx_buf_free_secure(struct fsx_buf *b);
/* Keep the allocation, set len to 0 (a secret buffer's bytes are wiped). */
void fsx_buf_reset(struct fsx_buf *b);
/* Make room for at least extra more bytes (plus the terminator). */
int fsx_buf_reserve(struct fsx_buf *b, size_t extra);
int fsx_buf_append(struct fsx_buf *b, const void *data, size_t len);
int fsx_buf_append_str(struct fsx_buf *b, const char *s);
int fsx_buf_append_char(struct fsx_buf *b, char c);
/* Lowercase hex of len bytes. */
int fsx_buf_append_hex(struct fsx_buf *b, const unsigned char *data, size_t len);
/* A C string view of the data: "" when nothing was appended. */
const char *fsx_buf_cstr(const struct fsx_buf *b);

#endif
