/* address.c: parse config addresses into sockaddrs and print them back. */
/*
 * Owns the syntax of a listen address (host:port, [v6]:port, unix:PATH)
 * and its canonical text. Pure: no socket is made here (listener.c binds),
 * no name is resolved through the network.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "parse.h"

#define UNIX_PREFIX "unix:"

/* Longest path that still leaves room for the NUL in sun_path. */
#define UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Port "1".."65535", digits only (no " +80", no "0x50"): parse_int. */
static int
address_parse_port(const char *s, int *port, char *err, size_t errlen)
{
	long long v;

	if (*s == '\0') {
		snprintf(err, errlen, "missing port (use HOST:PORT)");
		return -1;
	}
	if (parse_int(s, 1, 65535, &v, NULL, 0) == -1) {
		if (errno == ERANGE)
			snprintf(err, errlen,
			    "port %s is out of range (1..65535)", s);
		else
			snprintf(err, errlen,
			    "\"%s\" is not a port number (1..65535)", s);
		return -1;
	}
	*port = (int)v;
	return 0;
}

/* Copy the n-byte host part of s into a NUL-terminated buffer. */
static int
copy_host(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static void
set_inet(struct address *out, const struct in_addr *ia, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	char host[INET_ADDRSTRLEN];

	sin->sin_family = AF_INET;
	sin->sin_addr = *ia;
	sin->sin_port = htons((unsigned short)port);
	out->len = sizeof(*sin);
	inet_ntop(AF_INET, ia, host, sizeof(host));
	snprintf(out->text, sizeof(out->text), "%s:%d", host, port);
}

static void
set_inet6(
    struct address *out, const struct in6_addr *ia, int port, uint32_t scope)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	char host[INET6_ADDRSTRLEN];

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *ia;
	sin6->sin6_port = htons((unsigned short)port);
	sin6->sin6_scope_id = scope;
	out->len = sizeof(*sin6);
	inet_ntop(AF_INET6, ia, host, sizeof(host));
	snprintf(out->text, sizeof(out->text), "[%s]:%d", host, port);
}

static int
set_unix(
    struct address *out, const char *path, size_t len, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;

	if (len == 0 || path[0] != '/') {
		snprintf(err, errlen,
		    "unix socket path must be absolute (like "
		    "unix:/run/app.sock)");
		return -1;
	}
	if (len > UNIX_PATH_MAX) {
		snprintf(err, errlen,
		    "unix socket path is too long (%zu bytes, max %zu)", len,
		    (size_t)UNIX_PATH_MAX);
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	sun->sun_path[len] = '\0';
	out->len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	snprintf(
	    out->text, sizeof(out->text), UNIX_PREFIX "%.*s", (int)len, path);
	return 0;
}

static int
parse_bracketed(const char *s, struct address *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	struct in6_addr ia;
	const char *close;
	size_t hlen;
	int port;

	close = strchr(s, ']');
	if (close == NULL) {
		snprintf(err, errlen,
		    "\"%s\": missing \"]\" after the IPv6 address (like "
		    "[::1]:80)",
		    s);
		return -1;
	}
	hlen = (size_t)(close - (s + 1));
	if (copy_host(host, sizeof(host), s + 1, hlen) == -1 ||
	    inet_pton(AF_INET6, host, &ia) != 1) {
		snprintf(err, errlen, "\"%.*s\" is not an IPv6 address",
		    (int)hlen, s + 1);
		return -1;
	}
	if (close[1] != ':') {
		snprintf(
		    err, errlen, "\"%s\": missing port (use [HOST]:PORT)", s);
		return -1;
	}
	if (address_parse_port(close + 2, &port, err, errlen) == -1)
		return -1;
	set_inet6(out, &ia, port, 0);
	return 0;
}

int
address_parse(const char *s, struct address *out, char *err, size_t errlen)
{
	char host[64];
	struct in_addr ia;
	const char *colon;
	size_t hlen;
	int port;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0) {
		s += strlen(UNIX_PREFIX);
		return set_unix(out, s, strlen(s), err, errlen);
	}
	if (s[0] == '[')
		return parse_bracketed(s, out, err, errlen);

	colon = strrchr(s, ':');
	if (colon == NULL) {
		/* A bare port, like nginx's "listen 80". */
		if (s[0] != '\0' && s[strspn(s, "0123456789")] == '\0') {
			if (address_parse_port(s, &port, err, errlen) == -1)
				return -1;
			ia.s_addr = htonl(INADDR_ANY);
			set_inet(out, &ia, port);
			return 0;
		}
		if (s[0] == '\0')
			snprintf(err, errlen,
			    "empty address (use HOST:PORT, "
			    "[HOST]:PORT or unix:/PATH)");
		else
			snprintf(err, errlen,
			    "\"%s\": missing port (use HOST:PORT)", s);
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (memchr(s, ':', hlen) != NULL) {
		snprintf(err, errlen,
		    "\"%s\": an IPv6 address needs brackets (like [::1]:80)",
		    s);
		return -1;
	}
	if (hlen == 0) {
		snprintf(err, errlen,
		    "\"%s\": missing host (use *%s or 0.0.0.0%s)", s, s, s);
		return -1;
	}
	if (address_parse_port(colon + 1, &port, err, errlen) == -1)
		return -1;
	if (hlen == 1 && s[0] == '*') {
		ia.s_addr = htonl(INADDR_ANY);
	} else if (hlen == strlen("localhost") &&
	           strncasecmp(s, "localhost", hlen) == 0) {
		/*
		 * Pinned to IPv4 rather than resolved: the answer must not
		 * depend on /etc/hosts or change between reloads.
		 */
		ia.s_addr = htonl(INADDR_LOOPBACK);
	} else if (copy_host(host, sizeof(host), s, hlen) == -1 ||
	           inet_pton(AF_INET, host, &ia) != 1) {
		/*
		 * Resolving names would make the socket depend on DNS at
		 * start and could yield several addresses for one listener.
		 */
		snprintf(err, errlen,
		    "\"%.*s\": hostnames other than localhost are not "
		    "supported (use a numeric address)",
		    (int)hlen, s);
		return -1;
	}
	set_inet(out, &ia, port);
	return 0;
}

int
address_equal(const struct address *a, const struct address *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;
	const struct sockaddr_un *au, *bu;

	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		       a6->sin6_scope_id == b6->sin6_scope_id &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr,
		           sizeof(a6->sin6_addr)) == 0;
	case AF_UNIX:
		au = (const struct sockaddr_un *)&a->ss;
		bu = (const struct sockaddr_un *)&b->ss;
		return strncmp(au->sun_path, bu->sun_path,
		           sizeof(au->sun_path)) == 0;
	default:
		return 0;
	}
}

int
address_from_sockaddr(
    const struct sockaddr *sa, socklen_t len, struct address *out)
{
	const struct sockaddr_un *sun;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char err[128];
	size_t off = offsetof(struct sockaddr_un, sun_path);

	memset(out, 0, sizeof(*out));
	if (len < (socklen_t)sizeof(sa_family_t))
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		if (len < (socklen_t)sizeof(*sin))
			return -1;
		sin = (const struct sockaddr_in *)sa;
		set_inet(out, &sin->sin_addr, ntohs(sin->sin_port));
		return 0;
	case AF_INET6:
		if (len < (socklen_t)sizeof(*sin6))
			return -1;
		sin6 = (const struct sockaddr_in6 *)sa;
		set_inet6(out, &sin6->sin6_addr, ntohs(sin6->sin6_port),
		    sin6->sin6_scope_id);
		return 0;
	case AF_UNIX:
		/* Unnamed and abstract sockets have no config spelling. */
		if (len <= off || len > sizeof(*sun))
			return -1;
		sun = (const struct sockaddr_un *)sa;
		if (sun->sun_path[0] == '\0')
			return -1;
		return set_unix(out, sun->sun_path,
		    strnlen(sun->sun_path, len - off), err, sizeof(err));
	default:
		return -1;
	}
}

int
address_port(const struct address *a)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	default:
		return 0;
	}
}
