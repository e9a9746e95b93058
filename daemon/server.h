/*
 * server.h - pvd's JSON-RPC connections (see server.c): the unix socket
 * listener, every client's buffers, limits and subscription.
 */
#ifndef PVD_SERVER_H
#define PVD_SERVER_H

#include <event2/bufferevent.h>
#include <stddef.h>
#include <stdint.h>

struct pvd;
struct server;
struct client;

struct server *server_new(struct pvd *pvd, char *err, size_t errlen);
/* Closes every client and the socket, and unlinks the socket file. */
void server_free(struct server *s);

/* Serve a connection made elsewhere (TLS); caller is its identity, role
 * what it may do (roles.h), tls whether the role came from a certificate,
 * limit_key what --max-clients-per-uid counts it under ("": not limited).
 * 0 or -1 (refused, bev freed). */
int server_adopt(struct server *s, struct bufferevent *bev, const char *caller, int role, int tls,
		 const char *limit_key);

/* Send one frame to every subscribed client whose mask has a bit of type_bit. */
void server_broadcast(struct server *s, uint64_t type_bit, const char *frame, size_t len);

int server_client_count(struct server *s);
int server_subscriber_count(struct server *s);

/* Subscription of one connection (events.subscribe / events.unsubscribe). */
void client_set_subscription(struct client *c, uint64_t mask);	/* 0 = none */
uint64_t client_subscription(const struct client *c);
/* The connection's role (enum pvd_role) and whether it is a TLS one. */
int client_role(const struct client *c);
int client_is_tls(const struct client *c);
/* A connection's id (never reused while pvd runs; 0 for NULL), and a
 * frame (taken over) for the connection with that id: -1 when it has
 * gone (a deferred answer to a client that left). */
uint64_t client_id(const struct client *c);
int server_send_to(struct server *s, uint64_t id, char *frame);
/* Send frame (owned, freed here) now: to client id, or (client 0) to the
 * subscribers of mask. Only store_sync.c calls it, once the changes made
 * before the frame are on disk; everything else goes through
 * server_send_to / server_broadcast. */
void server_deliver(struct server *s, uint64_t client, uint64_t mask, char *frame);

#endif
