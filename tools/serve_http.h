/*
 * serve_http.h — the libmicrohttpd daemon of `trawl serve` (serve_http.c):
 * started on a listening socket the caller bound, quiesced (no new
 * connections) when draining, stopped at the end. Kept apart from serve.h so
 * that the request handler (srv_dispatch) builds without libmicrohttpd.
 */
#ifndef TRAWL_SERVE_HTTP_H
#define TRAWL_SERVE_HTTP_H

#include <sys/types.h>

#include <sys/select.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "serve.h"

typedef struct srv_http_options {
    unsigned threads;          /* worker threads of the pool */
    int thread_per_connection; /* one thread per connection instead of a pool */
    unsigned max_connections;
    unsigned timeout_s;  /* idle seconds before a connection is closed */
    size_t header_bytes; /* memory per connection for the request line and headers */
} srv_http_options;

typedef struct srv_http {
    srv_server *s;
    struct MHD_Daemon *daemon;
} srv_http;

/* Starts serving s on listen_fd (bound and listening). 0, or -1. */
int srv_http_start(srv_http *h, srv_server *s, int listen_fd, const srv_http_options *o);
/* Stops accepting connections; returns the listening socket (to close) or -1. */
int srv_http_quiesce(srv_http *h);
/* Stops the daemon (after every request is finished). */
void srv_http_stop(srv_http *h);

#endif
