/*
 * serve.c — `trawl serve`: the command line of the HTTP server, its listening
 * socket, and its life: open every index (a missing or corrupt one ends the
 * run with exit 1), bind (a taken port too), refuse a non-loopback address
 * without an admin key, serve until SIGTERM or SIGINT, then drain: stop
 * accepting, let in-flight requests finish (ingestion batches included, so
 * every acknowledged document is committed), exit 0. SIGHUP reopens every
 * index; a commit made by another process is noticed within a second.
 */
#include "cli.h"
#include "serve_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    OPT_LISTEN = 1,
    OPT_THREADS,
    OPT_ADMIN_KEY,
    OPT_SEARCH_KEY,
    OPT_CORS,
    OPT_DATA,
    OPT_MAX_BODY,
    OPT_MAX_QUERY,
    OPT_MAX_CONN,
    OPT_TIMEOUT,
    OPT_MAX_QUEUE,
    OPT_COMMIT_DELAY,
    OPT_TPC,
    OPT_QUIET
};

static const cli_opt serve_opts[] = {
    {OPT_LISTEN, 'l', "listen", 1},           {OPT_THREADS, 't', "threads", 1},
    {OPT_ADMIN_KEY, 0, "admin-key", 1},       {OPT_SEARCH_KEY, 0, "search-key", 1},
    {OPT_CORS, 0, "cors-origin", 1},          {OPT_DATA, 0, "data", 1},
    {OPT_MAX_BODY, 0, "max-body", 1},         {OPT_MAX_QUERY, 0, "max-query", 1},
    {OPT_MAX_CONN, 0, "max-connections", 1},  {OPT_TIMEOUT, 0, "timeout", 1},
    {OPT_MAX_QUEUE, 0, "max-queue", 1},       {OPT_COMMIT_DELAY, 0, "commit-delay", 1},
    {OPT_TPC, 0, "thread-per-connection", 0}, {OPT_QUIET, 'q', "quiet", 0},
};

typedef struct serve_args {
    srv_config cfg;
    srv_http_options http;
    const char *listen;
} serve_args;

static int on_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    serve_args *a = ctx;
    size_t v;
    switch (key) {
        case OPT_LISTEN: a->listen = value; return CLI_CONTINUE;
        case OPT_THREADS:
            if (cli_parse_size(value, 1, 256, &v) != 0)
                return cli_usage_error(cmd, "--threads wants a number from 1 to 256, not '%s'", value);
            a->http.threads = (unsigned)v;
            return CLI_CONTINUE;
        case OPT_ADMIN_KEY:
        case OPT_SEARCH_KEY:
            if (strlen(value) < 8) return cli_usage_error(cmd, "keys must have at least 8 characters");
            *(key == OPT_ADMIN_KEY ? &a->cfg.admin_key : &a->cfg.search_key) = value;
            return CLI_CONTINUE;
        case OPT_CORS:
            if (a->cfg.norigins == SRV_MAX_ORIGINS)
                return cli_usage_error(cmd, "at most %d --cors-origin values", SRV_MAX_ORIGINS);
            a->cfg.origins[a->cfg.norigins++] = value;
            return CLI_CONTINUE;
        case OPT_DATA: a->cfg.data_dir = value; return CLI_CONTINUE;
        case OPT_MAX_BODY:
            if (cli_parse_size(value, 1024, (size_t)1 << 40, &a->cfg.max_body) != 0)
                return cli_usage_error(cmd, "--max-body wants a byte count of at least 1024, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_MAX_QUERY:
            if (cli_parse_size(value, 1, 1 << 20, &a->cfg.max_query) != 0)
                return cli_usage_error(cmd, "--max-query wants a byte count from 1 to 1048576, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_MAX_CONN:
            if (cli_parse_size(value, 1, 1000000, &v) != 0)
                return cli_usage_error(cmd, "--max-connections wants a number from 1, not '%s'", value);
            a->http.max_connections = (unsigned)v;
            return CLI_CONTINUE;
        case OPT_TIMEOUT:
            if (cli_parse_size(value, 1, 86400, &v) != 0)
                return cli_usage_error(cmd, "--timeout wants seconds from 1 to 86400, not '%s'", value);
            a->http.timeout_s = (unsigned)v;
            return CLI_CONTINUE;
        case OPT_MAX_QUEUE:
            if (cli_parse_size(value, 1, (size_t)1 << 40, &a->cfg.max_queue) != 0)
                return cli_usage_error(cmd, "--max-queue wants a byte count, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_COMMIT_DELAY:
            if (cli_parse_size(value, 0, 10000, &v) != 0)
                return cli_usage_error(cmd, "--commit-delay wants milliseconds from 0 to 10000, not '%s'", value);
            a->cfg.commit_delay_ms = (unsigned)v;
            return CLI_CONTINUE;
        case OPT_TPC: a->http.thread_per_connection = 1; return CLI_CONTINUE;
        case OPT_QUIET: a->cfg.quiet = 1; return CLI_CONTINUE;
    }
    return cli_usage_error(cmd, "internal: unhandled option");
}

/* Splits "HOST:PORT", "[V6]:PORT" or "PORT" into host and port buffers. */
static int split_listen(const char *spec, char *host, size_t hcap, char *port, size_t pcap) {
    const char *colon;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':') return -1;
        if ((size_t)(rb - spec - 1) >= hcap) return -1;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        colon = rb + 1;
    } else if ((colon = strrchr(spec, ':')) != NULL) {
        if ((size_t)(colon - spec) >= hcap) return -1;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    } else {
        snprintf(host, hcap, "127.0.0.1");
        colon = spec - 1;
    }
    if (!host[0]) snprintf(host, hcap, "127.0.0.1");
    size_t v;
    if (cli_parse_size(colon + 1, 0, 65535, &v) != 0) return -1;
    snprintf(port, pcap, "%zu", v);
    return 0;
}

/* Is the socket address a loopback one (127.0.0.0/8, ::1)? */
static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* Binds and listens on spec. Returns the socket, or -1 after a message; *usage
 * is set when the failure is the non-loopback rule. */
static int open_listener(const char *spec, int have_admin_key, int *usage, char *shown, size_t shown_cap) {
    char host[256], port[16];
    *usage = 0;
    if (split_listen(spec, host, sizeof host, port, sizeof port) != 0) {
        *usage = 1;
        cli_error("serve: --listen wants HOST:PORT, [IPV6]:PORT or PORT, not '%s'", spec);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || !res) {
        cli_error("serve: cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    if (!is_loopback(res->ai_addr) && !have_admin_key) {
        freeaddrinfo(res);
        *usage = 1;
        cli_error("serve: %s is not a loopback address; serving beyond this machine needs --admin-key", host);
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            cli_error("serve: %s:%s is already in use (another server is listening there)", host, port);
        else
            cli_error("serve: cannot listen on %s:%s: %s", host, port, strerror(e));
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): getsockname filled ss
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
            p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            snprintf(shown, shown_cap, "%s:%u", addr, p);
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
            p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(shown, shown_cap, "[%s]:%u", addr, p);
        }
    }
    return fd;
}

/* Opens the index named by one positional argument: NAME=DIR or DIR (named
 * by its last component). Returns CLI_CONTINUE or an exit code. */
static int add_positional(const cli_command *cmd, srv_server *s, const char *arg) {
    const char *eq = strchr(arg, '='), *dir = arg;
    char name[SRV_NAME_MAX + 1];
    if (eq) {
        size_t n = (size_t)(eq - arg);
        if (!srv_valid_name(arg, n))
            return cli_usage_error(cmd, "bad index name in '%s' (1-%d of A-Z a-z 0-9 _ - ., no leading dot)", arg,
                                   SRV_NAME_MAX);
        memcpy(name, arg, n);
        name[n] = '\0';
        dir = eq + 1;
    } else {
        size_t len = strlen(arg);
        while (len > 1 && arg[len - 1] == '/') len--;
        const char *start = arg + len;
        while (start > arg && start[-1] != '/') start--;
        size_t n = (size_t)(arg + len - start);
        if (!srv_valid_name(start, n))
            return cli_usage_error(cmd, "cannot name the index '%s' after its directory; use NAME=%s", arg, arg);
        memcpy(name, start, n);
        name[n] = '\0';
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return cli_error("serve: %s: no such index directory", dir);
    char *msg = NULL;
    int rc = srv_index_add(s, name, dir, &msg);
    if (rc != TRAWL_OK) return cli_lib_error(dir, rc, msg);
    trawl_free(msg);
    return CLI_CONTINUE;
}

/* Opens every index directory under --data. */
static int add_data_dir(srv_server *s, const char *data) {
    DIR *d = opendir(data);
    if (!d) return cli_error("serve: --data %s: %s", data, strerror(errno));
    struct dirent *e;
    int st = CLI_CONTINUE;
    while (st == CLI_CONTINUE && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !srv_valid_name(e->d_name, strlen(e->d_name))) continue;
        char dir[4096];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/%s", data, e->d_name);
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        char *msg = NULL;
        int rc = srv_index_add(s, e->d_name, dir, &msg);
        if (rc != TRAWL_OK)
            st = cli_lib_error(dir, rc, msg);
        else
            trawl_free(msg);
    }
    closedir(d);
    return st;
}

/* Serves until SIGTERM/SIGINT, reopening on SIGHUP and every second when an
 * index directory changed. */
static void serve_loop(srv_server *s, const sigset_t *set) {
    for (;;) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) return;
        if (sig == SIGHUP) {
            srv_reopen_all(s, 1);
            if (!s->cfg.quiet) fputs("trawl serve: SIGHUP: indexes reopened\n", stderr);
        } else {
            srv_reopen_all(s, 0);
        }
    }
}

/* Stops accepting, waits (at most 30 s) for in-flight requests, stops. */
static void drain(srv_server *s, srv_http *h) {
    atomic_store(&s->state, SRV_DRAINING);
    int lfd = srv_http_quiesce(h);
    for (int i = 0; i < 3000 && atomic_load(&s->metrics.in_flight) > 0; i++) {
        struct timespec ms10 = {0, 10000000};
        nanosleep(&ms10, NULL);
    }
    srv_http_stop(h);
    /* The daemon's threads may still poll the listening socket until they
     * stop: closed only then. */
    if (lfd >= 0) close(lfd);
}

static int run_server(serve_args *pa, const cli_command *cmd, char **argv, size_t npos);

static int run_serve(const cli_command *cmd, int argc, char **argv) {
    serve_args a;
    memset(&a, 0, sizeof a);
    a.listen = "127.0.0.1:7700";
    a.cfg.max_body = (size_t)64 << 20;
    a.cfg.max_query = 4096;
    a.cfg.max_queue = (size_t)256 << 20;
    a.cfg.commit_delay_ms = 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    a.http.threads = ncpu > 0 ? (unsigned)ncpu : 2;
    a.http.max_connections = 1000;
    a.http.timeout_s = 30;
    a.http.header_bytes = 64 * 1024;
    a.cfg.admin_key = getenv("TRAWL_ADMIN_KEY");
    a.cfg.search_key = getenv("TRAWL_SEARCH_KEY");
    if (a.cfg.admin_key && !*a.cfg.admin_key) a.cfg.admin_key = NULL;
    if (a.cfg.search_key && !*a.cfg.search_key) a.cfg.search_key = NULL;
    size_t npos;
    int st = cli_parse(cmd, argc, argv, serve_opts, sizeof serve_opts / sizeof serve_opts[0], on_option, &a, &npos);
    if (st != CLI_CONTINUE) return st;
    if (npos == 0 && !a.cfg.data_dir) return cli_usage_error(cmd, "no index to serve (give NAME=DIR or --data DIR)");
    /* TRAWL_THREADS, TRAWL_RAM_MB and TRAWL_SIMD, as for the other commands. */
    trawl_open_options *open_options = NULL;
    if ((st = cli_open_options(&open_options)) != CLI_CONTINUE) return st;
    a.cfg.open_options = open_options;
    st = run_server(&a, cmd, argv, npos);
    trawl_open_options_free(open_options);
    return st;
}

/* Runs the server configured by *pa with the npos index arguments in argv:
 * signals, socket, indexes, the serve loop, the drain. Returns the exit code. */
static int run_server(serve_args *pa, const cli_command *cmd, char **argv, size_t npos) {
    serve_args a = *pa;
    int st = CLI_CONTINUE;

    /* Signals go to sigtimedwait in this thread only: block them before any
     * thread (ingesters, libmicrohttpd) starts, so every thread inherits it. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char shown[300] = "?";
    int usage = 0;
    int lfd = open_listener(a.listen, a.cfg.admin_key != NULL, &usage, shown, sizeof shown);
    if (lfd < 0) return usage ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;

    static srv_server server; /* large (metrics tables): not on the stack */
    srv_server *s = &server;
    if (srv_server_init(s, &a.cfg) != 0) {
        close(lfd);
        return cli_error("serve: out of memory");
    }
    for (size_t i = 1; i <= npos && st == CLI_CONTINUE; i++) st = add_positional(cmd, s, argv[i]);
    if (st == CLI_CONTINUE && a.cfg.data_dir) st = add_data_dir(s, a.cfg.data_dir);
    srv_http h = {0};
    size_t nidx = s->nidx; /* before the HTTP threads may create indexes */
    if (st == CLI_CONTINUE && srv_http_start(&h, s, lfd, &a.http) != 0)
        st = cli_error("serve: cannot start the HTTP server on %s", shown);
    if (st != CLI_CONTINUE) {
        close(lfd);
        srv_server_free(s);
        return st;
    }
    atomic_store(&s->state, SRV_READY);
    fprintf(stderr, "trawl serve: listening on http://%s/ (%zu index%s)\n", shown, nidx, nidx == 1 ? "" : "es");
    serve_loop(s, &set);
    if (!a.cfg.quiet) fputs("trawl serve: draining\n", stderr);
    drain(s, &h);
    srv_server_free(s);
    if (!a.cfg.quiet) fputs("trawl serve: stopped\n", stderr);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_serve = {
    "serve",
    "serve indexes over HTTP (JSON API and a search page)",
    "usage: trawl serve [OPTIONS] [NAME=]INDEX_DIR...\n"
    "\n"
    "Serves the indexes over HTTP: a JSON API (search, documents, ingestion with\n"
    "group commit, stats, /health, /metrics, /openapi.json) and a search page at /.\n"
    "A bare INDEX_DIR is named by its last path component. SIGTERM/SIGINT drain\n"
    "and stop; SIGHUP reopens every index (new searches see the latest commit).\n"
    "\n"
    "Options:\n"
    "  -l, --listen ADDR       HOST:PORT, [IPV6]:PORT or PORT (default 127.0.0.1:7700;\n"
    "                          port 0 picks a free one); a non-loopback address\n"
    "                          needs --admin-key\n"
    "  -t, --threads N         HTTP worker threads (default: one per CPU)\n"
    "      --thread-per-connection  one thread per connection instead of a pool\n"
    "      --admin-key K       key for writes (and reads); env TRAWL_ADMIN_KEY\n"
    "      --search-key K      key for reads; env TRAWL_SEARCH_KEY. With a key set,\n"
    "                          requests send Authorization: Bearer K\n"
    "      --cors-origin O     allow cross-origin requests from O (repeatable; *: any)\n"
    "      --data DIR          serve every index under DIR; PUT/DELETE /indexes/NAME\n"
    "                          create and remove indexes there (admin key needed)\n"
    "      --max-body BYTES    largest request body (default 67108864) -> 413\n"
    "      --max-query BYTES   longest query (default 4096) -> 414\n"
    "      --max-connections N concurrent connections (default 1000)\n"
    "      --timeout S         idle seconds before a connection is closed (default 30)\n"
    "      --max-queue BYTES   ingestion bytes waiting per index (default 268435456)\n"
    "                          -> 429 with Retry-After\n"
    "      --commit-delay MS   how long a group commit waits for more batches\n"
    "                          (default 2)\n"
    "  -q, --quiet             no access log on stderr\n"
    "  -h, --help              show this help\n",
    run_serve,
};
