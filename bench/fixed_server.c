/*
 * fixed_server.c - a tiny loopback HTTP/1.1 keep-alive server for the call benchmarks.
 *
 * Benchmark program (bench/, not part of the library). Answers every request
 * with the same CreateBackup JSON response (status 200, the headers FSx
 * sends), so the call-rate benchmark measures the clients and not a server.
 * One thread, epoll, non-blocking sockets; keeps connections open unless the
 * client asks otherwise ("Connection: close") and answers pipelined requests
 * in order. "Expect: 100-continue" gets an interim 100 before the body.
 *
 * Usage: fixed_server [--port N] [--port-file FILE] [--lifetime SECONDS]
 *   --port 0 (the default) picks a free port; --port-file gets the port
 *   (written to FILE.tmp, then renamed) once listening; the server exits by
 *   itself after --lifetime seconds (default 900), on SIGTERM or SIGINT, and
 *   prints "requests N connections N" on stderr when it does.
 * Listens on 127.0.0.1 only.
 */
#define _GNU_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024) /* bytes of one request, head and body */
#define MAX_EVENTS 64

/* A CreateBackup answer shaped like FSx's (test data, no real account). */
#define BODY                                                                                     \
    "{\"Backup\":{\"BackupId\":\"backup-0a1b2c3d4e5f60718\",\"Lifecycle\":\"CREATING\","         \
    "\"Type\":\"USER_INITIATED\",\"ProgressPercent\":0,\"CreationTime\":1705320000.0,"           \
    "\"ResourceARN\":\"arn:aws:fsx:us-east-1:123456789012:backup/backup-0a1b2c3d4e5f60718\","     \
    "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"nightly\"},{\"Key\":\"Owner\",\"Value\":\"ops\"}],"  \
    "\"FileSystem\":{\"OwnerId\":\"123456789012\",\"CreationTime\":1672531200.0,"                 \
    "\"FileSystemId\":\"fs-0123456789abcdef0\",\"FileSystemType\":\"WINDOWS\","                   \
    "\"Lifecycle\":\"AVAILABLE\",\"StorageCapacity\":32,\"StorageType\":\"SSD\","                 \
    "\"VpcId\":\"vpc-0a1b2c3d4e5f60718\",\"SubnetIds\":[\"subnet-0a1b2c3d4e5f60718\"],"          \
    "\"NetworkInterfaceIds\":[\"eni-0a1b2c3d4e5f60718\"],"                                       \
    "\"DNSName\":\"fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com\","                          \
    "\"KmsKeyId\":\"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-"             \
    "1234567890ab\",\"ResourceARN\":\"arn:aws:fsx:us-east-1:123456789012:file-system/"          \
    "fs-0123456789abcdef0\",\"WindowsConfiguration\":{\"DeploymentType\":\"SINGLE_AZ_2\","       \
    "\"ThroughputCapacity\":32,\"PreferredSubnetId\":\"subnet-0a1b2c3d4e5f60718\","              \
    "\"MaintenanceOperationsInProgress\":[],\"WeeklyMaintenanceStartTime\":\"1:05:00\","         \
    "\"DailyAutomaticBackupStartTime\":\"05:00\",\"AutomaticBackupRetentionDays\":7,"            \
    "\"CopyTagsToBackups\":true,\"Aliases\":[]}},\"OwnerId\":\"123456789012\","                  \
    "\"ResourceType\":\"FILE_SYSTEM\",\"KmsKeyId\":\"arn:aws:kms:us-east-1:123456789012:key/"    \
    "1234abcd-12ab-34cd-56ef-1234567890ab\"}}"

static char response[4096];
static size_t response_len;
static volatile sig_atomic_t stop;

struct conn {
    int fd;
    char *in;        /* received, not yet answered */
    size_t in_len, in_cap;
    char *out;       /* answer bytes not yet written */
    size_t out_len, out_off, out_cap;
    int continued;   /* a 100 Continue was sent for the current request */
    int closing;     /* close once out is flushed */
    int polling_out; /* registered for EPOLLOUT (the socket was full) */
};

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int grow(char **p, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 4096;
    char *q;

    while (n < need)
        n *= 2;
    if (n == *cap)
        return 0;
    q = (char *)realloc(*p, n);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int queue(struct conn *c, const char *s, size_t n)
{
    if (grow(&c->out, &c->out_cap, c->out_len + n) != 0)
        return -1;
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    return 0;
}

/* Value of header name (lowercase, with ':') in head[0..len), or NULL. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name), i = 0;

    while (i < len) {
        const char *line = head + i;
        const char *eol = memchr(line, '\n', len - i);
        size_t ll = eol ? (size_t)(eol - line) : len - i;

        if (ll > nl && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl;
            size_t n = ll - nl;

            while (n > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                n--;
            }
            while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
                n--;
            *vlen = n;
            return v;
        }
        i += ll + 1;
    }
    return NULL;
}

/* Answer every complete request in c->in; -1 on a protocol error. */
static int serve(struct conn *c, unsigned long *requests)
{
    for (;;) {
        char *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
        size_t head_len, body_len = 0, vlen, total;
        const char *v;

        if (end == NULL)
            return c->in_len > MAX_REQUEST ? -1 : 0;
        head_len = (size_t)(end - c->in) + 4;
        if ((v = header(c->in, head_len, "content-length:", &vlen)) != NULL)
            body_len = strtoul(v, NULL, 10);
        if (body_len > MAX_REQUEST)
            return -1;
        total = head_len + body_len;
        if (c->in_len < total) {
            v = header(c->in, head_len, "expect:", &vlen);
            if (v != NULL && !c->continued && vlen == 12 && strncasecmp(v, "100-continue", 12) == 0) {
                c->continued = 1;
                return queue(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            }
            return 0;
        }
        v = header(c->in, head_len, "connection:", &vlen);
        if (v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0)
            c->closing = 1;
        if (queue(c, response, response_len) != 0)
            return -1;
        (*requests)++;
        c->continued = 0;
        memmove(c->in, c->in + total, c->in_len - total);
        c->in_len -= total;
        if (c->closing)
            return 0;
    }
}

/* Write what is queued; 1 when everything went, 0 when the socket is full, -1 on error. */
static int flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

static void close_conn(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void build_response(void)
{
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 200 OK\r\n"
                     "x-amzn-RequestId: 5d1f5b2c-7b0e-4f4e-9a51-8f0c1d2e3f40\r\n"
                     "Content-Type: application/x-amz-json-1.1\r\n"
                     "Content-Length: %zu\r\n"
                     "Date: Mon, 15 Jan 2024 12:00:00 GMT\r\n"
                     "\r\n%s",
                     sizeof(BODY) - 1, BODY);

    if (n < 0 || (size_t)n >= sizeof(response)) {
        fprintf(stderr, "fixed_server: response too large\n");
        exit(1);
    }
    response_len = (size_t)n;
}

static void write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        die("port file");
}

int main(int argc, char **argv)
{
    const char *port_file = NULL;
    unsigned port = 0;
    double lifetime = 900, started;
    unsigned long requests = 0, connections = 0;
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    struct epoll_event ev, events[MAX_EVENTS];
    struct timespec ts;
    struct sigaction sa;
    int ls, ep, one = 1, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
            port_file = argv[++i];
        else if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc)
            lifetime = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: fixed_server [--port N] [--port-file FILE] [--lifetime S]\n");
            return 2;
        }
    }
    build_response();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0)
        die("socket");
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (bind(ls, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(ls, 128) != 0)
        die("bind/listen");
    if (getsockname(ls, (struct sockaddr *)&addr, &alen) != 0)
        die("getsockname");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll");
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL: the listening socket */
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    if (port_file != NULL)
        write_port_file(port_file, ntohs(addr.sin_port));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    started = (double)ts.tv_sec;

    while (!stop) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 1000);

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((double)ts.tv_sec - started > lifetime)
            break;
        for (i = 0; i < n; i++) {
            struct conn *c = (struct conn *)events[i].data.ptr;

            if (c == NULL) {
                int fd;

                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    c = (struct conn *)calloc(1, sizeof(*c));
                    if (c == NULL) {
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    c->fd = fd;
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                    connections++;
                }
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                int eof = 0;

                for (;;) {
                    ssize_t r;

                    if (grow(&c->in, &c->in_cap, c->in_len + 4096) != 0) {
                        eof = 1;
                        break;
                    }
                    r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
                    if (r > 0) {
                        c->in_len += (size_t)r;
                        continue;
                    }
                    if (r < 0 && errno == EINTR)
                        continue;
                    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                        eof = 1;
                    break;
                }
                if (serve(c, &requests) != 0 || (eof && c->out_len == 0)) {
                    close_conn(ep, c);
                    continue;
                }
            }
            if (c->out_len > 0 || (events[i].events & EPOLLOUT)) {
                int f = flush(c);

                if (f < 0 || (f == 1 && c->closing)) {
                    close_conn(ep, c);
                    continue;
                }
                if ((f == 0) != c->polling_out) {
                    c->polling_out = f == 0;
                    ev.events = f == 0 ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
        }
    }
    fprintf(stderr, "requests %lu connections %lu\n", requests, connections);
    close(ls);
    close(ep);
    return 0;
}
