/*
 * test_sigv4_stages.c - unit cases for each SigV4 stage of the signing core.
 *
 * Table-driven, no Lua. Covers: the crypto primitives (SHA-256, HMAC-SHA256
 * against RFC 4231, the AWS documentation's example signing key), canonical
 * path (dot segments, runs of '/', trailing slash, encoding, S3 mode),
 * canonical query (sorting, repeated keys, empty values, reserved
 * characters), header trimming/merging/sorting, input validation, the
 * headers the signer adds (date, token signed or not, content hash), the
 * derived-key cache (derivation counts, LRU replacement, bypass for long
 * secrets) and result reuse across calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sigv4.h"
#include "sigv4_stages.h"
#include "test_util.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* ---- crypto ------------------------------------------------------------- */

static void test_crypto(void)
{
    unsigned char d[32], big[131];
    char h[65];
    unsigned char key20[20];
    unsigned char k64[64], k65[65];
    unsigned char rnd[64];
    size_t i;
    int nonzero = 0;

    tu_ok(fsx_sha256_hex("abc", 3, h) == 0 &&
              strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256 abc", "got %s", h);
    tu_ok(fsx_sha256_hex(NULL, 0, h) == 0 && strcmp(h, EMPTY_SHA) == 0, "sha256 empty", "got %s",
          h);
    tu_ok(fsx_sha256("abc", 3, d) == 0 && (hex(d, 32, h), 1) &&
              strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "raw sha256 abc", "got %s", h);

    memset(key20, 0x0b, sizeof(key20));
    tu_ok(fsx_hmac_sha256(key20, 20, "Hi There", 8, d) == 0 && (hex(d, 32, h), 1) &&
              strcmp(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7") == 0,
          "hmac rfc4231 case 1", "got %s", h);
    memset(big, 0xaa, sizeof(big));
    tu_ok(fsx_hmac_sha256(big, sizeof(big), "Test Using Larger Than Block-Size Key - Hash Key First",
                          54, d) == 0 &&
              (hex(d, 32, h), 1) &&
              strcmp(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54") == 0,
          "hmac rfc4231 case 6 (long key)", "got %s", h);
    memset(k64, 'k', sizeof(k64));
    memset(k65, 'k', sizeof(k65));
    tu_ok(fsx_hmac_sha256(k64, 64, "msg", 3, d) == 0 && (hex(d, 32, h), 1) &&
              strcmp(h, "d62ad25bb128e96ab6ef43464aaf2bb91b5b85f013381e9ba6be747e8d0911b2") == 0,
          "hmac key of one block", "got %s", h);
    tu_ok(fsx_hmac_sha256(k65, 65, "msg", 3, d) == 0 && (hex(d, 32, h), 1) &&
              strcmp(h, "c65585780e821bd312cfaa440c33cb28d6af6b323d4977ae83934834ce589e38") == 0,
          "hmac key of one block + 1", "got %s", h);
    /* two-part key, split at every place, equals the one-part key */
    for (i = 0; i <= 65; i += 13) {
        tu_ok(fsx_hmac_sha256_2(k65, i, k65 + i, 65 - i, "msg", 3, d) == 0 &&
                  (hex(d, 32, h), 1) &&
                  strcmp(h, "c65585780e821bd312cfaa440c33cb28d6af6b323d4977ae83934834ce589e38") ==
                      0,
              "hmac two-part key", "split at %lu: got %s", (unsigned long)i, h);
    }
    {
        char prefixed[205];

        memcpy(prefixed, "AWS4", 4);
        memset(prefixed + 4, 'x', 200);
        tu_ok(fsx_hmac_sha256_2("AWS4", 4, prefixed + 4, 200, "20150830", 8, d) == 0 &&
                  (hex(d, 32, h), 1) &&
                  strcmp(h, "707956c887fba363ce9a671038813268036b5eef36070c09b6f3591e5de293a5") ==
                      0,
              "hmac two-part long key", "got %s", h);
    }
    /* the AWS documentation's example signing key (service iam) */
    tu_ok(fsx_sigv4_derive_key(SECRET, strlen(SECRET), "20150830", "us-east-1", "iam", d) ==
                  0 &&
              (hex(d, 32, h), 1) &&
              strcmp(h, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9") == 0,
          "derive key (aws example)", "got %s", h);
    memset(rnd, 0, sizeof(rnd));
    tu_ok(fsx_random_bytes(rnd, sizeof(rnd)) == 0, "random bytes", "RAND_bytes failed");
    for (i = 0; i < sizeof(rnd); i++)
        nonzero |= rnd[i];
    tu_ok(nonzero != 0, "random bytes are not all zero", "64 zero bytes");
    memset(rnd, 0x5a, sizeof(rnd));
    fsx_wipe(rnd, sizeof(rnd));
    for (i = 0, nonzero = 0; i < sizeof(rnd); i++)
        nonzero |= rnd[i];
    tu_ok(nonzero == 0, "wipe", "bytes left after fsx_wipe");
    fsx_wipe(NULL, 10); /* must not crash */
}

/* ---- canonical path ------------------------------------------------------ */

struct path_case {
    const char *in;
    unsigned flags;
    const char *want;
};

static const struct path_case path_cases[] = {
    {"", 0, "/"},
    {"/", 0, "/"},
    {"//", 0, "/"},
    {"///", 0, "/"},
    {"/a/b/../c", 0, "/a/c"},
    {"/a/./b", 0, "/a/b"},
    {"/a/b/..", 0, "/a"},
    {"/a/b/.", 0, "/a/b"},
    {"/a/b/../", 0, "/a/"},
    {"/a/b/./", 0, "/a/b/"},
    {"/a/b/", 0, "/a/b/"},
    {"/../a", 0, "/a"},
    {"/a/../../b", 0, "/b"},
    {"/example/..", 0, "/"},
    {"/example1/example2/../..", 0, "/"},
    {"/./", 0, "/"},
    {"/./example", 0, "/example"},
    {"//example//", 0, "/example/"},
    {"/a//b///c/", 0, "/a/b/c/"},
    {"a/b", 0, "/a/b"},
    {".", 0, "/"},
    {"..", 0, "/"},
    {"/...", 0, "/..."},
    {"/.a/..b/a.", 0, "/.a/..b/a."},
    {"/%2E%2e/x", 0, "/%252E%252e/x"},
    {"/a/%2E/b", 0, "/a/%252E/b"},
    {"/example space/", 0, "/example%20space/"},
    {"/a%20b", 0, "/a%2520b"},
    {"/50%25/", 0, "/50%2525/"},
    {"/a%2fb", 0, "/a%252fb"},
    {"/a%zzb", 0, "/a%25zzb"},
    {"/%", 0, "/%25"},
    {"/a%2", 0, "/a%252"},
    {"/\xe1\x88\xb4", 0, "/%E1%88%B4"},
    {"/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 0,
     "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
    {"/a+b=c&d;e:f@g!h$i'j(k)l*m,n", 0,
     "/a%2Bb%3Dc%26d%3Be%3Af%40g%21h%24i%27j%28k%29l%2Am%2Cn"},
    {"/\x7f\x01", 0, "/%7F%01"},
    /* S3 style: as given, only encoded */
    {"", FSX_SIGV4_NO_NORMALIZE_PATH, "/"},
    {"//", FSX_SIGV4_NO_NORMALIZE_PATH, "//"},
    {"/./", FSX_SIGV4_NO_NORMALIZE_PATH, "/./"},
    {"/example/..", FSX_SIGV4_NO_NORMALIZE_PATH, "/example/.."},
    {"//example//", FSX_SIGV4_NO_NORMALIZE_PATH, "//example//"},
    {"a", FSX_SIGV4_NO_NORMALIZE_PATH, "/a"},
    {"/a b/", FSX_SIGV4_NO_NORMALIZE_PATH, "/a%20b/"},
    {"/a%2Fb", FSX_SIGV4_NO_NORMALIZE_PATH, "/a%2Fb"},
    {"/a%2fb%20c", FSX_SIGV4_NO_NORMALIZE_PATH, "/a%2Fb%20c"},
    {"/a%zz%", FSX_SIGV4_NO_NORMALIZE_PATH, "/a%25zz%25"},
    {"/%2E%2E/x", FSX_SIGV4_NO_NORMALIZE_PATH, "/../x"},
};

static void test_paths(void)
{
    struct fsx_buf out;
    size_t i;
    char name[160];

    fsx_buf_init(&out);
    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];

        fsx_buf_reset(&out);
        snprintf(name, sizeof(name), "path %lu (%s%s)", (unsigned long)i + 1, c->in,
                 c->flags ? ", no normalize" : "");
        if (fsx_sigv4_canonical_path(&out, c->in, strlen(c->in), c->flags) != 0)
            tu_ok(0, name, "failed");
        else
            tu_expect_str(name, fsx_buf_cstr(&out), c->want);
    }
    /* appends after existing content, and a NULL path is "/" */
    fsx_buf_reset(&out);
    fsx_buf_append_str(&out, "GET\n");
    fsx_sigv4_canonical_path(&out, "/a/../b/..", 10, 0);
    tu_expect_str("path appends (.. never pops the prefix)", fsx_buf_cstr(&out), "GET\n/");
    fsx_buf_reset(&out);
    fsx_sigv4_canonical_path(&out, NULL, 0, 0);
    tu_expect_str("path NULL", fsx_buf_cstr(&out), "/");
    fsx_buf_free(&out);
}

/* ---- canonical query ----------------------------------------------------- */

struct query_case {
    const char *in;
    const char *want;
};

static const struct query_case query_cases[] = {
    {"", ""},
    {"a=1", "a=1"},
    {"b=2&a=1", "a=1&b=2"},
    {"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
    {"a=2&a=1", "a=1&a=2"},
    {"Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"},
    {"a", "a="},
    {"a=", "a="},
    {"a&b=1", "a=&b=1"},
    {"&&a=1&", "a=1"},
    {"a=1=2", "a=1%3D2"},
    {"=x", "=x"},
    {"a b=c d", "a%20b=c%20d"},
    {"a+b=c", "a%2Bb=c"},
    {"a%20b=c%2fd", "a%20b=c%2Fd"},
    {"%zz=1", "%25zz=1"},
    {"x=%", "x=%25"},
    {"\xe1\x88\xb4=bar", "%E1%88%B4=bar"},
    {"Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"},
    {"x=!*'()", "x=%21%2A%27%28%29"},
    {"x=/?:@", "x=%2F%3F%3A%40"},
    {"b=1&B=1", "B=1&b=1"},
    {"%62=2&a=1", "a=1&b=2"},
    {"a-b=1&a=1", "a=1&a-b=1"},
    {"-._~=-._~", "-._~=-._~"},
    {"k=&k", "k=&k="},
};

static void test_queries(void)
{
    struct fsx_buf out, scratch;
    char name[160], *many, *want;
    size_t i, n;

    fsx_buf_init(&out);
    fsx_buf_init(&scratch);
    for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const struct query_case *c = &query_cases[i];

        fsx_buf_reset(&out);
        snprintf(name, sizeof(name), "query %lu (%s)", (unsigned long)i + 1, c->in);
        if (fsx_sigv4_canonical_query(&out, &scratch, c->in, strlen(c->in)) != 0)
            tu_ok(0, name, "failed");
        else
            tu_expect_str(name, fsx_buf_cstr(&out), c->want);
    }
    /* more parameters than the stack array holds: k39..k00 sorted ascending */
    many = (char *)malloc(40 * 8 + 1);
    want = (char *)malloc(40 * 8 + 1);
    if (many != NULL && want != NULL) {
        for (i = 0, n = 0; i < 40; i++)
            n += (size_t)sprintf(many + n, "%sk%02lu=%lu", i ? "&" : "", 39 - (unsigned long)i,
                                 (unsigned long)i % 3);
        for (i = 0, n = 0; i < 40; i++)
            n += (size_t)sprintf(want + n, "%sk%02lu=%lu", i ? "&" : "", (unsigned long)i,
                                 (39 - (unsigned long)i) % 3);
        fsx_buf_reset(&out);
        fsx_sigv4_canonical_query(&out, &scratch, many, strlen(many));
        tu_expect_str("query with 40 parameters", fsx_buf_cstr(&out), want);
    }
    free(many);
    free(want);
    fsx_buf_free(&out);
    fsx_buf_free(&scratch);
}

/* ---- headers --------------------------------------------------------------- */

struct trim_case {
    const char *in;
    const char *want;
};

static const struct trim_case trim_cases[] = {
    {"value1", "value1"},   {"  a  b  ", "a b"},       {"\ta\t\tb\t", "a b"},
    {"", ""},               {"   ", ""},               {"\"a   b   c\"", "\"a b c\""},
    {"VALUE1", "VALUE1"},   {"a \t b", "a b"},         {"value1   value2     value3",
                                                        "value1 value2 value3"},
    /* long runs go eight bytes at a time: blanks at every offset of a word */
    {"abcdefgh", "abcdefgh"},
    {"abcdefghijklmnop", "abcdefghijklmnop"},
    {"abcdefg hijklmnop", "abcdefg hijklmnop"},
    {"abcdefgh ijklmnop", "abcdefgh ijklmnop"},
    {"abcdefghi\tjklmnop", "abcdefghi jklmnop"},
    {"  aaaaaaaaaaaaaaaaaaa\t\tbbbbbbbbbbbbbbbbbbbbbbbbb  c   ", "aaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbb c"},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0",
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0"},
};

#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

struct header_case {
    const char *name;
    struct fsx_sigv4_header h[6];
    size_t n;
    const char *want;
    const char *want_signed;
};

static const struct header_case header_cases[] = {
    {"merge repeated names in order", {H("X-A", "1"), H("x-a", " 2 ")}, 2, "x-a:1,2\n", "x-a"},
    {"sort by lowercase name",
     {H("Zeta", "z"), H("alpha", "a"), H("Host", "h")},
     3,
     "alpha:a\nhost:h\nzeta:z\n",
     "alpha;host;zeta"},
    {"interleaved repeats keep their order",
     {H("b", "1"), H("a", "x"), H("B", "2"), H("b", "3")},
     4,
     "a:x\nb:1,2,3\n",
     "a;b"},
    {"value order kept", {H("My-Header1", "value4"), H("My-Header1", "value1"),
                          H("My-Header1", "value3"), H("My-Header1", "value2")},
     4, "my-header1:value4,value1,value3,value2\n", "my-header1"},
    {"prefix names sort first", {H("x-amz-date", "d"), H("x-amz", "p")}, 2,
     "x-amz:p\nx-amz-date:d\n", "x-amz;x-amz-date"},
    {"empty values merge", {H("a", ""), H("a", "x"), H("a", "  ")}, 3, "a:,x,\n", "a"},
    {"values keep case, trimmed", {H("My-Header1", "  VALUE1  ")}, 1, "my-header1:VALUE1\n",
     "my-header1"},
    {"token characters in names", {H("X-!#$%&'*+.^_`|~", "v")}, 1, "x-!#$%&'*+.^_`|~:v\n",
     "x-!#$%&'*+.^_`|~"},
};

static void test_headers(void)
{
    struct fsx_buf out, sig;
    struct fsx_sigv4_header many[40], extra[1];
    char names[40][8], name[160], *want;
    size_t i, n;

    fsx_buf_init(&out);
    fsx_buf_init(&sig);
    for (i = 0; i < sizeof(trim_cases) / sizeof(trim_cases[0]); i++) {
        fsx_buf_reset(&out);
        snprintf(name, sizeof(name), "trim %lu", (unsigned long)i + 1);
        fsx_sigv4_append_trimmed(&out, trim_cases[i].in, strlen(trim_cases[i].in));
        tu_expect_str(name, fsx_buf_cstr(&out), trim_cases[i].want);
    }
    for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        const struct header_case *c = &header_cases[i];
        int ok;

        fsx_buf_reset(&out);
        fsx_buf_reset(&sig);
        ok = fsx_sigv4_canonical_headers(&out, &sig, c->h, c->n, NULL, 0) == 0;
        ok = ok && tu_same(c->name, "canonical headers", out.data, out.len, c->want,
                           strlen(c->want));
        ok = ok && tu_same(c->name, "signed headers", sig.data, sig.len, c->want_signed,
                           strlen(c->want_signed));
        tu_ok(ok, c->name, "see above");
    }
    /* extra headers (the ones the signer adds) sort in with the request's */
    {
        static const struct fsx_sigv4_header req[] = {H("Host", "example.amazonaws.com"),
                                                      H("Zzz", "1")};
        static const struct fsx_sigv4_header add[] = {H("X-Amz-Date", DATE)};
        int ok;

        fsx_buf_reset(&out);
        fsx_buf_reset(&sig);
        ok = fsx_sigv4_canonical_headers(&out, &sig, req, 2, add, 1) == 0;
        ok = ok && tu_same("extra headers", "canonical",  out.data, out.len,
                           "host:example.amazonaws.com\nx-amz-date:" DATE "\nzzz:1\n",
                           strlen("host:example.amazonaws.com\nx-amz-date:" DATE "\nzzz:1\n"));
        ok = ok && tu_same("extra headers", "signed", sig.data, sig.len, "host;x-amz-date;zzz",
                           19);
        tu_ok(ok, "extra headers", "see above");
    }
    /* more headers than the stack array holds: h39..h00 plus one extra */
    for (i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "H%02lu", 39 - (unsigned long)i);
        many[i].name = names[i];
        many[i].name_len = 3;
        many[i].value = " v ";
        many[i].value_len = 3;
    }
    extra[0].name = "a";
    extra[0].name_len = 1;
    extra[0].value = "x";
    extra[0].value_len = 1;
    want = (char *)malloc(41 * 8 + 1);
    if (want != NULL) {
        n = (size_t)sprintf(want, "a:x\n");
        for (i = 0; i < 40; i++)
            n += (size_t)sprintf(want + n, "h%02lu:v\n", (unsigned long)i);
        fsx_buf_reset(&out);
        fsx_buf_reset(&sig);
        fsx_sigv4_canonical_headers(&out, &sig, many, 40, extra, 1);
        tu_expect_str("41 headers", fsx_buf_cstr(&out), want);
        tu_expect_int("41 headers: signed list length", (long)sig.len, 1 + 40 * 4);
    }
    free(want);
    fsx_buf_free(&out);
    fsx_buf_free(&sig);
}

/* ---- signing: a base request and helpers ---------------------------------- */

static const struct fsx_sigv4_header base_headers[] = {H("Host", "example.amazonaws.com")};

static void base_request(struct fsx_sigv4_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = "GET";
    req->path = "/";
    req->path_len = 1;
    req->query = "";
    req->headers = base_headers;
    req->n_headers = 1;
    req->region = "us-east-1";
    req->service = "service";
    req->access_key_id = "AKIDEXAMPLE";
    req->secret_access_key = SECRET;
    req->amz_date = DATE;
}

/* Authorization = "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<sh>, Signature=<64 hex>" */
static int authorization_ok(const struct fsx_sigv4_result *res, const char *akid)
{
    char want[512];
    const char *a = fsx_buf_cstr(&res->authorization);
    size_t i, n;

    n = (size_t)snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=%s/", akid);
    if (strncmp(a, want, n) != 0 || strstr(a, ", SignedHeaders=") == NULL)
        return 0;
    a = strstr(a, ", Signature=");
    if (a == NULL || strlen(a + 12) != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((a[12 + i] >= '0' && a[12 + i] <= '9') || (a[12 + i] >= 'a' && a[12 + i] <= 'f')))
            return 0;
    return strcmp(a + 12, res->signature) == 0;
}

/* Vanilla GET from the AWS suite (get-vanilla). */
#define VANILLA_AUTH                                                                            \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "        \
    "SignedHeaders=host;x-amz-date, "                                                           \
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

/* ---- validation ------------------------------------------------------------ */

enum mutation {
    M_VALUE_CR, M_VALUE_LF, M_VALUE_NUL, M_VALUE_FOLDED, M_VALUE_DEL, M_NAME_CRLF, M_NAME_SPACE,
    M_NAME_EMPTY, M_NAME_COLON, M_NAME_NULL, M_VALUE_NULL, M_DATE_ISO, M_DATE_SHORT,
    M_DATE_LONG, M_DATE_MONTH, M_DATE_LETTER, M_DATE_LOWER_T, M_DATE_EMPTY, M_DATE_NULL,
    M_DATE_HOUR, M_NO_REGION, M_EMPTY_SERVICE, M_NO_AKID, M_NO_SECRET, M_REGION_SLASH,
    M_SERVICE_SPACE, M_AKID_COMMA, M_NO_HOST, M_NO_METHOD, M_BAD_METHOD, M_HASH_SHORT,
    M_HASH_UPPER, M_BODY_NULL, M_PATH_NULL, M_QUERY_NULL, M_HEADERS_NULL, M_DATE_CONFLICT,
    M_TOKEN_LF, M_TOKEN_CONFLICT
};

struct invalid_case {
    const char *name;
    enum mutation m;
    const char *code;
};

static const struct invalid_case invalid_cases[] = {
    {"CR in a header value", M_VALUE_CR, "InvalidHeaderValue"},
    {"LF in a header value", M_VALUE_LF, "InvalidHeaderValue"},
    {"NUL in a header value", M_VALUE_NUL, "InvalidHeaderValue"},
    {"folded (multiline) value passed raw", M_VALUE_FOLDED, "InvalidHeaderValue"},
    {"DEL in a header value", M_VALUE_DEL, "InvalidHeaderValue"},
    {"CRLF in a header name", M_NAME_CRLF, "InvalidHeaderName"},
    {"space in a header name", M_NAME_SPACE, "InvalidHeaderName"},
    {"empty header name", M_NAME_EMPTY, "InvalidHeaderName"},
    {"colon in a header name", M_NAME_COLON, "InvalidHeaderName"},
    {"NULL header name", M_NAME_NULL, "InvalidHeaderName"},
    {"NULL header value with a length", M_VALUE_NULL, "InvalidHeaderValue"},
    {"date in ISO 8601 form", M_DATE_ISO, "InvalidDate"},
    {"date without Z", M_DATE_SHORT, "InvalidDate"},
    {"date with trailing bytes", M_DATE_LONG, "InvalidDate"},
    {"date with month 13", M_DATE_MONTH, "InvalidDate"},
    {"date with a letter", M_DATE_LETTER, "InvalidDate"},
    {"date with lowercase t", M_DATE_LOWER_T, "InvalidDate"},
    {"empty date", M_DATE_EMPTY, "InvalidDate"},
    {"NULL date", M_DATE_NULL, "MissingField"},
    {"date with hour 24", M_DATE_HOUR, "InvalidDate"},
    {"no region", M_NO_REGION, "MissingField"},
    {"empty service", M_EMPTY_SERVICE, "MissingField"},
    {"no access key id", M_NO_AKID, "MissingField"},
    {"no secret", M_NO_SECRET, "MissingField"},
    {"region with '/'", M_REGION_SLASH, "InvalidScope"},
    {"service with a space", M_SERVICE_SPACE, "InvalidScope"},
    {"access key id with ','", M_AKID_COMMA, "InvalidScope"},
    {"no host header", M_NO_HOST, "MissingHost"},
    {"no method", M_NO_METHOD, "MissingField"},
    {"method with a space", M_BAD_METHOD, "InvalidMethod"},
    {"short payload hash", M_HASH_SHORT, "InvalidPayloadHash"},
    {"uppercase payload hash", M_HASH_UPPER, "InvalidPayloadHash"},
    {"NULL body with a length", M_BODY_NULL, "MissingField"},
    {"NULL path with a length", M_PATH_NULL, "MissingField"},
    {"NULL query with a length", M_QUERY_NULL, "MissingField"},
    {"NULL headers with a count", M_HEADERS_NULL, "MissingField"},
    {"x-amz-date header differs from amz_date", M_DATE_CONFLICT, "ConflictingHeader"},
    {"LF in the session token", M_TOKEN_LF, "InvalidHeaderValue"},
    {"x-amz-security-token header differs from the token", M_TOKEN_CONFLICT,
     "ConflictingHeader"},
};

static void mutate(struct fsx_sigv4_request *req, struct fsx_sigv4_header *h, enum mutation m)
{
    static const char nul_value[] = {'a', '\0', 'b'};

    h[0] = base_headers[0];
    h[1].name = "My-Header";
    h[1].name_len = 9;
    h[1].value = "ok";
    h[1].value_len = 2;
    req->headers = h;
    req->n_headers = 2;
    switch (m) {
    case M_VALUE_CR: h[1].value = "a\rb"; h[1].value_len = 3; break;
    case M_VALUE_LF: h[1].value = "a\nb"; h[1].value_len = 3; break;
    case M_VALUE_NUL: h[1].value = nul_value; h[1].value_len = 3; break;
    case M_VALUE_FOLDED: h[1].value = "value1\n  value2"; h[1].value_len = 15; break;
    case M_VALUE_DEL: h[1].value = "a\x7f"; h[1].value_len = 2; break;
    case M_NAME_CRLF: h[1].name = "My\r\nHeader"; h[1].name_len = 10; break;
    case M_NAME_SPACE: h[1].name = "My Header"; break;
    case M_NAME_EMPTY: h[1].name_len = 0; break;
    case M_NAME_COLON: h[1].name = "My:Header"; break;
    case M_NAME_NULL: h[1].name = NULL; break;
    case M_VALUE_NULL: h[1].value = NULL; break;
    case M_DATE_ISO: req->amz_date = "2015-08-30T12:36:00Z"; break;
    case M_DATE_SHORT: req->amz_date = "20150830T123600"; break;
    case M_DATE_LONG: req->amz_date = "20150830T123600ZZ"; break;
    case M_DATE_MONTH: req->amz_date = "20151330T123600Z"; break;
    case M_DATE_LETTER: req->amz_date = "2015083OT123600Z"; break;
    case M_DATE_LOWER_T: req->amz_date = "20150830t123600Z"; break;
    case M_DATE_EMPTY: req->amz_date = ""; break;
    case M_DATE_NULL: req->amz_date = NULL; break;
    case M_DATE_HOUR: req->amz_date = "20150830T243600Z"; break;
    case M_NO_REGION: req->region = NULL; break;
    case M_EMPTY_SERVICE: req->service = ""; break;
    case M_NO_AKID: req->access_key_id = NULL; break;
    case M_NO_SECRET: req->secret_access_key = ""; break;
    case M_REGION_SLASH: req->region = "us/east"; break;
    case M_SERVICE_SPACE: req->service = "ser vice"; break;
    case M_AKID_COMMA: req->access_key_id = "AKID,X"; break;
    case M_NO_HOST: h[0] = h[1]; req->n_headers = 1; break;
    case M_NO_METHOD: req->method = ""; break;
    case M_BAD_METHOD: req->method = "GE T"; break;
    case M_HASH_SHORT: req->payload_hash = "abc"; break;
    case M_HASH_UPPER: req->payload_hash = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"; break;
    case M_BODY_NULL: req->body = NULL; req->body_len = 5; break;
    case M_PATH_NULL: req->path = NULL; req->path_len = 3; break;
    case M_QUERY_NULL: req->query = NULL; req->query_len = 3; break;
    case M_HEADERS_NULL: req->headers = NULL; break;
    case M_DATE_CONFLICT: h[1].name = "X-Amz-Date"; h[1].name_len = 10;
        h[1].value = "20150830T123601Z"; h[1].value_len = 16; break;
    case M_TOKEN_LF: req->session_token = "tok\nen"; break;
    case M_TOKEN_CONFLICT: req->session_token = "token-a"; h[1].name = "X-Amz-Security-Token";
        h[1].name_len = 20; h[1].value = "token-b"; h[1].value_len = 7; break;
    }
}

static void test_validation(void)
{
    struct fsx_sigv4_request req;
    struct fsx_sigv4_header h[2];
    struct fsx_sigv4_result res;
    struct fsx_error err;
    size_t i;

    fsx_sigv4_result_init(&res);
    for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        int rc, ok;

        /* a successful signature first: a failure must not leave it behind */
        base_request(&req);
        fsx_sigv4_sign(&req, NULL, &res, &err);
        mutate(&req, h, c->m);
        fsx_error_clear(&err);
        rc = fsx_sigv4_sign(&req, NULL, &res, &err);
        ok = rc == -1 && err.kind == FSX_ERR_VALIDATION && strcmp(err.code, c->code) == 0 &&
             res.authorization.len == 0 && res.signature[0] == '\0' &&
             res.canonical_request.len == 0 && err.message[0] != '\0';
        tu_ok(ok, c->name, "rc %d kind %s code %s (want %s), message \"%s\"", rc,
              fsx_error_kind_name(err.kind), err.code, c->code, err.message);
    }
    /* a control character at every offset of a long value is found (8-byte scan) */
    {
        static const char bad_bytes[] = {'\0', '\n', '\r', '\x1f', '\x7f', '\x01'};
        char value[40];
        struct fsx_sigv4_header hv[2];
        size_t pos, b;
        int all = 1;

        for (b = 0; b < sizeof(bad_bytes); b++) {
            for (pos = 0; pos < sizeof(value); pos++) {
                memset(value, 'v', sizeof(value));
                value[pos] = bad_bytes[b];
                base_request(&req);
                hv[0] = base_headers[0];
                hv[1].name = "X-Long";
                hv[1].name_len = 6;
                hv[1].value = value;
                hv[1].value_len = sizeof(value);
                req.headers = hv;
                req.n_headers = 2;
                if (fsx_sigv4_sign(&req, NULL, &res, &err) != -1 ||
                    strcmp(err.code, "InvalidHeaderValue") != 0) {
                    printf("  byte 0x%02x at %lu accepted\n", (unsigned char)bad_bytes[b],
                           (unsigned long)pos);
                    all = 0;
                }
            }
        }
        tu_ok(all, "control characters found at every offset", "see above");
        /* and high bytes, HT and SP at every offset are accepted */
        for (pos = 0, all = 1; pos < sizeof(value); pos++) {
            memset(value, '\xa0', sizeof(value));
            value[pos] = pos % 2 ? '\t' : ' ';
            base_request(&req);
            hv[0] = base_headers[0];
            hv[1].name = "X-Long";
            hv[1].name_len = 6;
            hv[1].value = value;
            hv[1].value_len = sizeof(value);
            req.headers = hv;
            req.n_headers = 2;
            if (fsx_sigv4_sign(&req, NULL, &res, &err) != 0)
                all = 0;
        }
        tu_ok(all, "high bytes, SP and HT accepted at every offset", "%s", err.message);
    }
    /* the error never quotes secrets */
    base_request(&req);
    req.session_token = "SECRET-TOKEN\n";
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(strstr(err.message, "SECRET-TOKEN") == NULL, "error message hides the token", "%s",
          err.message);
    /* HT inside a value is allowed (and collapsed) */
    {
        static const struct fsx_sigv4_header tab[] = {H("Host", "example.amazonaws.com"),
                                                      H("X-Tab", "a\t\tb")};

        base_request(&req);
        req.headers = tab;
        req.n_headers = 2;
        tu_ok(fsx_sigv4_sign(&req, NULL, &res, &err) == 0 &&
                  strstr(fsx_buf_cstr(&res.canonical_request), "\nx-tab:a b\n") != NULL,
              "HT in a value is accepted", "%s", err.message);
    }
    tu_ok(fsx_sigv4_sign(NULL, NULL, &res, &err) == -1 && err.kind == FSX_ERR_VALIDATION,
          "NULL request", "accepted");
    base_request(&req);
    tu_ok(fsx_sigv4_sign(&req, NULL, NULL, &err) == -1 && err.kind == FSX_ERR_VALIDATION,
          "NULL result", "accepted");
    fsx_sigv4_result_free(&res);
}

/*
 * A result reused for a shorter signature keeps nothing of the longer one
 * past its end, and a failed signature leaves no byte of the last one.
 */
static void test_reuse_leaves_nothing(void)
{
    static const char token[] = "TOKEN-0123456789-0123456789-0123456789-0123456789-0123456789";
    static const char query[] = "X-Amz-Security-Token=TOKEN-0123456789-0123456789-0123456789";
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res;
    struct fsx_error err;
    struct fsx_buf *b[3];
    size_t old[3], i, j, checked = 0;
    int ok, clean = 1;

    fsx_sigv4_result_init(&res);
    b[0] = &res.canonical_request;
    b[1] = &res.string_to_sign;
    b[2] = &res.authorization;
    base_request(&req);
    req.session_token = token;
    req.query = query;
    req.query_len = sizeof(query) - 1;
    req.service = "a-service-with-a-long-name";
    req.access_key_id = "AKIDEXAMPLE-A-LONGER-KEY-ID";
    ok = fsx_sigv4_sign(&req, NULL, &res, &err) == 0;
    for (i = 0; i < 3; i++)
        old[i] = b[i]->len;
    base_request(&req);
    ok = ok && fsx_sigv4_sign(&req, NULL, &res, &err) == 0;
    for (i = 0; ok && i < 3; i++) {
        for (j = b[i]->len + 1; j < old[i]; j++, checked++)
            if (b[i]->data[j] != '\0')
                clean = 0;
    }
    tu_ok(ok && clean && checked > 0, "a shorter signature leaves none of the longer one",
          "signed %d, clean %d, %lu bytes checked", ok, clean, (unsigned long)checked);

    for (i = 0; i < 3; i++)
        old[i] = b[i]->len;
    req.method = "";
    ok = fsx_sigv4_sign(&req, NULL, &res, &err) == -1;
    for (i = 0, checked = 0, clean = 1; ok && i < 3; i++) {
        for (j = 0; j < old[i]; j++, checked++)
            if (b[i]->data[j] != '\0')
                clean = 0;
    }
    tu_ok(ok && clean && checked > 0, "a failed signature leaves no byte of the last one",
          "failed %d, clean %d, %lu bytes checked", ok, clean, (unsigned long)checked);
    fsx_sigv4_result_free(&res);
}

/* ---- added headers, flags and reuse ---------------------------------------- */

static int has_added(const struct fsx_sigv4_result *res, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < res->n_added; i++)
        if (res->added[i].name_len == strlen(name) &&
            memcmp(res->added[i].name, name, res->added[i].name_len) == 0 &&
            res->added[i].value_len == strlen(value) &&
            memcmp(res->added[i].value, value, res->added[i].value_len) == 0)
            return 1;
    return 0;
}

static void test_added_headers(void)
{
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res, fresh;
    struct fsx_error err;
    char body_hash[65];
    int ok;

    fsx_sigv4_result_init(&res);
    fsx_sigv4_result_init(&fresh);

    base_request(&req);
    ok = fsx_sigv4_sign(&req, NULL, &res, &err) == 0;
    tu_ok(ok && strcmp(fsx_buf_cstr(&res.authorization), VANILLA_AUTH) == 0, "vanilla get",
          "%s", fsx_buf_cstr(&res.authorization));
    tu_ok(res.n_added == 1 && has_added(&res, "X-Amz-Date", DATE), "vanilla adds X-Amz-Date",
          "n_added %lu", (unsigned long)res.n_added);
    tu_ok(authorization_ok(&res, "AKIDEXAMPLE"), "authorization well formed", "%s",
          fsx_buf_cstr(&res.authorization));
    tu_expect_str("payload hash of an empty body", res.payload_hash, EMPTY_SHA);

    /* session token, signed */
    base_request(&req);
    req.session_token = "tok";
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(res.n_added == 2 && has_added(&res, "X-Amz-Date", DATE) &&
              has_added(&res, "X-Amz-Security-Token", "tok") &&
              strcmp(fsx_buf_cstr(&res.signed_headers), "host;x-amz-date;x-amz-security-token") ==
                  0 &&
              strstr(fsx_buf_cstr(&res.canonical_request), "\nx-amz-security-token:tok\n") != NULL,
          "session token added and signed", "signed %s", fsx_buf_cstr(&res.signed_headers));
    /* session token, omitted from signing */
    req.flags = FSX_SIGV4_OMIT_SESSION_TOKEN;
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(res.n_added == 2 && has_added(&res, "X-Amz-Security-Token", "tok") &&
              strcmp(fsx_buf_cstr(&res.signed_headers), "host;x-amz-date") == 0 &&
              strstr(fsx_buf_cstr(&res.canonical_request), "tok") == NULL,
          "session token added unsigned", "signed %s", fsx_buf_cstr(&res.signed_headers));
    /* empty token: none */
    req.flags = 0;
    req.session_token = "";
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(res.n_added == 1, "empty token adds nothing", "n_added %lu",
          (unsigned long)res.n_added);

    /* headers the request already has are not added twice */
    {
        static const struct fsx_sigv4_header have[] = {
            H("Host", "example.amazonaws.com"), H("x-amz-date", " " DATE " "),
            H("X-AMZ-SECURITY-TOKEN", "tok"), H("X-Amz-Content-Sha256", EMPTY_SHA)};

        base_request(&req);
        req.headers = have;
        req.n_headers = 4;
        req.session_token = "tok";
        req.flags = FSX_SIGV4_SIGN_BODY;
        ok = fsx_sigv4_sign(&req, NULL, &res, &err) == 0;
        tu_ok(ok && res.n_added == 0 &&
                  strcmp(fsx_buf_cstr(&res.signed_headers),
                         "host;x-amz-content-sha256;x-amz-date;x-amz-security-token") == 0,
              "present headers are not added", "rc %d n_added %lu signed %s (%s)", ok,
              (unsigned long)res.n_added, fsx_buf_cstr(&res.signed_headers), err.message);
    }

    /* sign body */
    base_request(&req);
    req.method = "POST";
    req.body = "Param1=value1";
    req.body_len = 13;
    req.flags = FSX_SIGV4_SIGN_BODY;
    fsx_sha256_hex("Param1=value1", 13, body_hash);
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(res.n_added == 2 && has_added(&res, "x-amz-content-sha256", body_hash) &&
              strcmp(res.payload_hash, body_hash) == 0 &&
              strcmp(fsx_buf_cstr(&res.signed_headers), "host;x-amz-content-sha256;x-amz-date") ==
                  0,
          "sign body adds x-amz-content-sha256", "signed %s",
          fsx_buf_cstr(&res.signed_headers));
    /* an explicit payload hash is used verbatim and the body is not hashed */
    req.payload_hash = EMPTY_SHA;
    req.flags = 0;
    fsx_sigv4_sign(&req, NULL, &res, &err);
    tu_ok(strcmp(res.payload_hash, EMPTY_SHA) == 0 &&
              strcmp(fsx_buf_cstr(&res.canonical_request) + res.canonical_request.len - 64,
                     EMPTY_SHA) == 0,
          "explicit payload hash", "%s", res.payload_hash);

    /* result reuse: sign a big request, then a small one, into one result */
    {
        static const struct fsx_sigv4_header big[] = {
            H("Host", "example.amazonaws.com"), H("X-Long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")};

        base_request(&req);
        req.headers = big;
        req.n_headers = 2;
        req.query = "z=1&y=2&x=3";
        req.query_len = 11;
        req.session_token = "tok";
        fsx_sigv4_sign(&req, NULL, &res, &err);
        base_request(&req);
        ok = fsx_sigv4_sign(&req, NULL, &res, &err) == 0;
        fsx_sigv4_sign(&req, NULL, &fresh, &err);
        tu_ok(ok &&
                  strcmp(fsx_buf_cstr(&res.canonical_request),
                         fsx_buf_cstr(&fresh.canonical_request)) == 0 &&
                  strcmp(fsx_buf_cstr(&res.string_to_sign), fsx_buf_cstr(&fresh.string_to_sign)) ==
                      0 &&
                  strcmp(fsx_buf_cstr(&res.authorization), VANILLA_AUTH) == 0 &&
                  res.n_added == 1,
              "result reused across calls", "%s", fsx_buf_cstr(&res.authorization));
    }
    fsx_sigv4_result_free(&res);
    fsx_sigv4_result_free(&res); /* idempotent */
    fsx_sigv4_result_free(&fresh);
    tu_ok(res.authorization.data == NULL && res.canonical_request.len == 0, "result free resets",
          "buffers left");
}

/* ---- cache ------------------------------------------------------------------- */

static void test_cache(void)
{
    struct fsx_sigv4_cache *cache = fsx_sigv4_cache_new();
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res, ref;
    struct fsx_error err;
    char long_secret[201];
    static const char *regions[] = {"r-1", "r-2", "r-3", "r-4", "r-5"};
    size_t i;
    int ok;

    fsx_sigv4_result_init(&res);
    fsx_sigv4_result_init(&ref);
    tu_ok(cache != NULL, "cache new", "NULL");
    if (cache == NULL)
        return;
    tu_expect_int("no cache counts nothing", (long)fsx_sigv4_cache_derivations(NULL), 0);
    tu_expect_int("new cache has no derivations", (long)fsx_sigv4_cache_derivations(cache), 0);

    base_request(&req);
    ok = fsx_sigv4_sign(&req, cache, &res, &err) == 0;
    ok = ok && fsx_sigv4_sign(&req, cache, &res, &err) == 0;
    tu_ok(ok && strcmp(fsx_buf_cstr(&res.authorization), VANILLA_AUTH) == 0,
          "cached signature is right", "%s", fsx_buf_cstr(&res.authorization));
    tu_expect_int("same key twice: 1 derivation", (long)fsx_sigv4_cache_derivations(cache), 1);

    req.amz_date = "20150831T000000Z";
    fsx_sigv4_sign(&req, cache, &res, &err);
    fsx_sigv4_sign(&req, NULL, &ref, &err);
    tu_expect_int("different date: 2 derivations", (long)fsx_sigv4_cache_derivations(cache), 2);
    tu_expect_str("different date: same as uncached", fsx_buf_cstr(&res.authorization),
                  fsx_buf_cstr(&ref.authorization));
    req.amz_date = DATE;
    fsx_sigv4_sign(&req, cache, &res, &err);
    tu_expect_int("first date again: still 2", (long)fsx_sigv4_cache_derivations(cache), 2);
    tu_expect_str("first date again: right signature", fsx_buf_cstr(&res.authorization),
                  VANILLA_AUTH);

    req.service = "other";
    fsx_sigv4_sign(&req, cache, &res, &err);
    tu_expect_int("different service: 3", (long)fsx_sigv4_cache_derivations(cache), 3);
    req.service = "service";
    req.secret_access_key = "another-secret";
    fsx_sigv4_sign(&req, cache, &res, &err);
    fsx_sigv4_sign(&req, NULL, &ref, &err);
    tu_expect_int("different secret: 4", (long)fsx_sigv4_cache_derivations(cache), 4);
    tu_expect_str("different secret: same as uncached", fsx_buf_cstr(&res.authorization),
                  fsx_buf_cstr(&ref.authorization));
    /* a secret that differs only in length must not match */
    req.secret_access_key = "another-secre";
    fsx_sigv4_sign(&req, cache, &res, &err);
    fsx_sigv4_sign(&req, NULL, &ref, &err);
    tu_expect_int("prefix of a cached secret: 5", (long)fsx_sigv4_cache_derivations(cache), 5);
    tu_expect_str("prefix secret: same as uncached", fsx_buf_cstr(&res.authorization),
                  fsx_buf_cstr(&ref.authorization));
    /* same length, one byte different: the masked comparison must see it */
    req.secret_access_key = "another-secreT";
    fsx_sigv4_sign(&req, cache, &res, &err);
    fsx_sigv4_sign(&req, NULL, &ref, &err);
    tu_expect_int("secret differing in one byte: 6", (long)fsx_sigv4_cache_derivations(cache), 6);
    tu_expect_str("one-byte secret: same as uncached", fsx_buf_cstr(&res.authorization),
                  fsx_buf_cstr(&ref.authorization));

    /* four slots, least recently used replaced */
    {
        struct fsx_sigv4_cache *c2 = fsx_sigv4_cache_new();

        base_request(&req);
        for (i = 0; i < 4; i++) {
            req.region = regions[i];
            fsx_sigv4_sign(&req, c2, &res, &err);
        }
        for (i = 0; i < 4; i++) {
            req.region = regions[i];
            fsx_sigv4_sign(&req, c2, &res, &err);
        }
        tu_expect_int("four keys fit", (long)fsx_sigv4_cache_derivations(c2), 4);
        req.region = regions[0]; /* r-1 most recent, r-2 least recent */
        fsx_sigv4_sign(&req, c2, &res, &err);
        req.region = regions[4];
        fsx_sigv4_sign(&req, c2, &res, &err);
        tu_expect_int("a fifth key evicts one", (long)fsx_sigv4_cache_derivations(c2), 5);
        req.region = regions[0];
        fsx_sigv4_sign(&req, c2, &res, &err);
        tu_expect_int("the recent key survives", (long)fsx_sigv4_cache_derivations(c2), 5);
        req.region = regions[1];
        fsx_sigv4_sign(&req, c2, &res, &err);
        fsx_sigv4_sign(&req, NULL, &ref, &err);
        tu_expect_int("the least recent key was evicted", (long)fsx_sigv4_cache_derivations(c2),
                      6);
        tu_expect_str("evicted key re-derived right", fsx_buf_cstr(&res.authorization),
                      fsx_buf_cstr(&ref.authorization));
        fsx_sigv4_cache_free(c2);
    }

    /* secrets too long for a slot bypass the cache, still right */
    {
        struct fsx_sigv4_cache *c3 = fsx_sigv4_cache_new();

        memset(long_secret, 's', 200);
        long_secret[200] = '\0';
        base_request(&req);
        req.secret_access_key = long_secret;
        fsx_sigv4_sign(&req, c3, &res, &err);
        fsx_sigv4_sign(&req, c3, &res, &err);
        fsx_sigv4_sign(&req, NULL, &ref, &err);
        tu_expect_int("long secret: derived each time", (long)fsx_sigv4_cache_derivations(c3), 2);
        tu_expect_str("long secret: right signature", fsx_buf_cstr(&res.authorization),
                      fsx_buf_cstr(&ref.authorization));
        fsx_sigv4_cache_free(c3);
    }

    /* the lookup stage directly */
    {
        unsigned char k1[32], k2[32];

        ok = fsx_sigv4_cache_lookup(cache, SECRET, "20150830", "us-east-1", "service",
                                    k1) == 0 &&
             fsx_sigv4_derive_key(SECRET, strlen(SECRET), "20150830", "us-east-1",
                                  "service", k2) == 0;
        tu_ok(ok && memcmp(k1, k2, 32) == 0, "cache lookup returns the derived key", "differs");
        ok = fsx_sigv4_cache_lookup(NULL, SECRET, "20150830", "us-east-1", "service", k1) ==
             0;
        tu_ok(ok && memcmp(k1, k2, 32) == 0, "lookup without a cache derives", "differs");
    }
    fsx_sigv4_cache_free(cache);
    fsx_sigv4_cache_free(NULL);
    fsx_sigv4_result_free(&res);
    fsx_sigv4_result_free(&ref);
}

/* ---- error record ------------------------------------------------------------ */

static void test_error(void)
{
    struct fsx_error err;
    char longcode[100];

    memset(longcode, 'C', sizeof(longcode) - 1);
    longcode[sizeof(longcode) - 1] = '\0';
    fsx_error_set(&err, FSX_ERR_TRANSPORT, longcode, "%s %d", "x", 1);
    tu_ok(err.kind == FSX_ERR_TRANSPORT && strlen(err.code) == sizeof(err.code) - 1 &&
              strcmp(err.message, "x 1") == 0,
          "error set truncates the code", "code %s", err.code);
    fsx_error_clear(&err);
    tu_ok(err.kind == FSX_OK && err.code[0] == '\0' && err.message[0] == '\0', "error clear",
          "not cleared");
    fsx_error_set(NULL, FSX_ERR_MEMORY, "X", "y"); /* must not crash */
    tu_expect_str("kind name validation", fsx_error_kind_name(FSX_ERR_VALIDATION), "validation");
    tu_expect_str("kind name too_large", fsx_error_kind_name(FSX_ERR_TOO_LARGE), "too_large");
    tu_expect_str("kind name crypto", fsx_error_kind_name(FSX_ERR_CRYPTO), "crypto");
    tu_expect_str("kind name memory", fsx_error_kind_name(FSX_ERR_MEMORY), "memory");
    tu_expect_str("kind name transport", fsx_error_kind_name(FSX_ERR_TRANSPORT), "transport");
    tu_expect_str("kind name timeout", fsx_error_kind_name(FSX_ERR_TIMEOUT), "timeout");
}

int main(void)
{
    test_crypto();
    test_paths();
    test_queries();
    test_headers();
    test_validation();
    test_reuse_leaves_nothing();
    test_added_headers();
    test_cache();
    test_error();
    return tu_report("sigv4-stages");
}
