/* address.h: socket addresses as written in the config: parse, print, compare.
 */
#ifndef BATON_ADDRESS_H
#define BATON_ADDRESS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

struct address {
	struct sockaddr_storage ss; /* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t len;
	char text[128]; /* canonical: 1.2.3.4:80, [::1]:80, unix:/path */
};

/*
 * Parse "0.0.0.0:8080", "127.0.0.1:80", "[::]:8080", "[::1]:80", "*:80"
 * (IPv4 any), "8080" (IPv4 any), "localhost:80" (127.0.0.1) or
 * "unix:/abs/path" (at most 107 bytes). Numeric hosts only otherwise; port
 * 1..65535. Fills out (text is the canonical form). Returns 0, or -1 with a
 * reason in err.
 */
int address_parse(const char *s, struct address *out, char *err, size_t errlen);

/* Same family, address and port (or path). */
int address_equal(const struct address *a, const struct address *b);

/* Fill out from a kernel address (getsockname); 0 or -1 when unsupported. */
int address_from_sockaddr(
    const struct sockaddr *sa, socklen_t len, struct address *out);

/* The port, or 0 for UNIX addresses. */
int address_port(const struct address *a);

#endif
