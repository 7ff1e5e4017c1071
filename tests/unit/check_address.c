/* check_address.c: unit tests for address parsing, printing and comparing. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "address.h"

static const struct {
	const char *in;
	const char *text;
	int family;
	int port;
} good[] = {
    {"0.0.0.0:8080", "0.0.0.0:8080", AF_INET, 8080},
    {"127.0.0.1:80", "127.0.0.1:80", AF_INET, 80},
    {"10.1.2.3:65535", "10.1.2.3:65535", AF_INET, 65535},
    {"192.168.0.1:1", "192.168.0.1:1", AF_INET, 1},
    {"*:80", "0.0.0.0:80", AF_INET, 80},
    {"8080", "0.0.0.0:8080", AF_INET, 8080},
    {"localhost:80", "127.0.0.1:80", AF_INET, 80},
    {"LocalHost:81", "127.0.0.1:81", AF_INET, 81},
    {"[::]:8080", "[::]:8080", AF_INET6, 8080},
    {"[::1]:80", "[::1]:80", AF_INET6, 80},
    {"[2001:DB8:0:0::1]:443", "[2001:db8::1]:443", AF_INET6, 443},
    {"[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]:80", AF_INET6, 80},
    {"unix:/run/app.sock", "unix:/run/app.sock", AF_UNIX, 0},
    {"unix:/", "unix:/", AF_UNIX, 0},
};

START_TEST(test_parse_good)
{
	struct address a;
	char err[256] = "";

	ck_assert_msg(address_parse(good[_i].in, &a, err, sizeof(err)) == 0,
	    "%s: %s", good[_i].in, err);
	ck_assert_str_eq(a.text, good[_i].text);
	ck_assert_int_eq(a.ss.ss_family, good[_i].family);
	ck_assert_int_eq(address_port(&a), good[_i].port);
}
END_TEST

START_TEST(test_parse_sockaddr_bytes)
{
	struct address a;
	struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&a.ss;
	char err[256];

	ck_assert_int_eq(
	    address_parse("127.0.0.1:8080", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);

	ck_assert_int_eq(address_parse("*:80", &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_ANY);

	ck_assert_int_eq(address_parse("[::1]:443", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.len, sizeof(struct sockaddr_in6));
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);

	ck_assert_int_eq(
	    address_parse("unix:/run/a.sock", &a, err, sizeof(err)), 0);
	ck_assert_str_eq(sun->sun_path, "/run/a.sock");
	ck_assert_int_eq(a.len,
	    offsetof(struct sockaddr_un, sun_path) + strlen("/run/a.sock") + 1);
}
END_TEST

START_TEST(test_parse_unix_max_length)
{
	struct address a;
	char in[200], err[256] = "";

	/* 107 bytes of path is the most sun_path can hold with its NUL. */
	strcpy(in, "unix:/");
	memset(in + 6, 'a', 106);
	in[6 + 106] = '\0';
	ck_assert_msg(address_parse(in, &a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(a.text, in);

	strcpy(in + 6 + 106, "b");
	ck_assert_int_eq(address_parse(in, &a, err, sizeof(err)), -1);
	ck_assert_str_eq(
	    err, "unix socket path is too long (108 bytes, max 107)");
}
END_TEST

static const struct {
	const char *in;
	const char *err;
} bad[] = {
    {"", "empty address (use HOST:PORT, [HOST]:PORT or unix:/PATH)"},
    {"localhost", "\"localhost\": missing port (use HOST:PORT)"},
    {"127.0.0.1", "\"127.0.0.1\": missing port (use HOST:PORT)"},
    {"127.0.0.1:", "missing port (use HOST:PORT)"},
    {"127.0.0.1:0", "port 0 is out of range (1..65535)"},
    {"127.0.0.1:65536", "port 65536 is out of range (1..65535)"},
    {"127.0.0.1:99999999999999999999",
        "port 99999999999999999999 is out of range (1..65535)"},
    {"127.0.0.1:http", "\"http\" is not a port number (1..65535)"},
    {"127.0.0.1:+80", "\"+80\" is not a port number (1..65535)"},
    {"127.0.0.1:-1", "\"-1\" is not a port number (1..65535)"},
    {"0", "port 0 is out of range (1..65535)"},
    {"80x", "\"80x\": missing port (use HOST:PORT)"},
    {":80", "\":80\": missing host (use *:80 or 0.0.0.0:80)"},
    {"example.com:80",
        "\"example.com\": hostnames other than localhost are not supported "
        "(use a numeric address)"},
    {"1.2.3:80",
        "\"1.2.3\": hostnames other than localhost are not supported (use "
        "a numeric address)"},
    {"256.0.0.1:80",
        "\"256.0.0.1\": hostnames other than localhost are not supported "
        "(use a numeric address)"},
    {"::1:80", "\"::1:80\": an IPv6 address needs brackets (like [::1]:80)"},
    {"[::1:80", "\"[::1:80\": missing \"]\" after the IPv6 address (like "
                "[::1]:80)"},
    {"[::1]", "\"[::1]\": missing port (use [HOST]:PORT)"},
    {"[::1]80", "\"[::1]80\": missing port (use [HOST]:PORT)"},
    {"[::1]:", "missing port (use HOST:PORT)"},
    {"[::1]:0", "port 0 is out of range (1..65535)"},
    {"[zz]:80", "\"zz\" is not an IPv6 address"},
    {"[127.0.0.1]:80", "\"127.0.0.1\" is not an IPv6 address"},
    {"[]:80", "\"\" is not an IPv6 address"},
    {"unix:", "unix socket path must be absolute (like unix:/run/app.sock)"},
    {"unix:run/app.sock",
        "unix socket path must be absolute (like unix:/run/app.sock)"},
};

START_TEST(test_parse_bad)
{
	struct address a;
	char err[256] = "";

	ck_assert_int_eq(address_parse(bad[_i].in, &a, err, sizeof(err)), -1);
	ck_assert_str_eq(err, bad[_i].err);
}
END_TEST

static struct address
parsed(const char *s)
{
	struct address a;
	char err[256] = "";

	ck_assert_msg(
	    address_parse(s, &a, err, sizeof(err)) == 0, "%s: %s", s, err);
	return a;
}

START_TEST(test_equal)
{
	struct address a, b;

	a = parsed("127.0.0.1:80");
	b = parsed("localhost:80");
	ck_assert(address_equal(&a, &b));
	b = parsed("127.0.0.1:81");
	ck_assert(!address_equal(&a, &b));
	b = parsed("127.0.0.2:80");
	ck_assert(!address_equal(&a, &b));

	a = parsed("8080");
	b = parsed("*:8080");
	ck_assert(address_equal(&a, &b));
	b = parsed("0.0.0.0:8080");
	ck_assert(address_equal(&a, &b));
	/* Same port, other family: not the same socket. */
	b = parsed("[::]:8080");
	ck_assert(!address_equal(&a, &b));
	ck_assert(!address_equal(&b, &a));

	a = parsed("[::1]:80");
	b = parsed("[0:0::1]:80");
	ck_assert(address_equal(&a, &b));
	b = parsed("[::1]:81");
	ck_assert(!address_equal(&a, &b));
	b = parsed("[::2]:80");
	ck_assert(!address_equal(&a, &b));

	a = parsed("unix:/run/a.sock");
	b = parsed("unix:/run/a.sock");
	ck_assert(address_equal(&a, &b));
	b = parsed("unix:/run/b.sock");
	ck_assert(!address_equal(&a, &b));
	b = parsed("unix:/run/a.sockx");
	ck_assert(!address_equal(&a, &b));
	b = parsed("127.0.0.1:80");
	ck_assert(!address_equal(&a, &b));
}
END_TEST

START_TEST(test_from_sockaddr_inet)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct address a, p;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8080);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &a), 0);
	ck_assert_str_eq(a.text, "127.0.0.1:8080");
	ck_assert_int_eq(address_port(&a), 8080);
	p = parsed("127.0.0.1:8080");
	ck_assert(address_equal(&a, &p));
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sin, sizeof(sin) - 1, &a),
	    -1);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	sin6.sin6_addr = in6addr_any;
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &a),
	    0);
	ck_assert_str_eq(a.text, "[::]:443");
	p = parsed("[::]:443");
	ck_assert(address_equal(&a, &p));
}
END_TEST

START_TEST(test_from_sockaddr_unix)
{
	struct sockaddr_un sun;
	struct address a, p;
	socklen_t off = offsetof(struct sockaddr_un, sun_path);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/app.sock");
	/* getsockname counts the NUL... */
	ck_assert_int_eq(address_from_sockaddr((struct sockaddr *)&sun,
	                     off + (socklen_t)strlen(sun.sun_path) + 1, &a),
	    0);
	ck_assert_str_eq(a.text, "unix:/run/app.sock");
	p = parsed("unix:/run/app.sock");
	ck_assert(address_equal(&a, &p));
	/* ...or may not, or may report the whole structure. */
	ck_assert_int_eq(address_from_sockaddr((struct sockaddr *)&sun,
	                     off + (socklen_t)strlen(sun.sun_path), &a),
	    0);
	ck_assert_str_eq(a.text, "unix:/run/app.sock");
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sun, sizeof(sun), &a), 0);
	ck_assert(address_equal(&a, &p));

	/* Unnamed and abstract sockets have no config spelling. */
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sun, off, &a), -1);
	memcpy(sun.sun_path, "\0abstract", 9);
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sun, off + 9, &a), -1);

	sun.sun_family = AF_APPLETALK;
	ck_assert_int_eq(
	    address_from_sockaddr((struct sockaddr *)&sun, sizeof(sun), &a),
	    -1);
}
END_TEST

static Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("address");

	tcase_add_loop_test(
	    tc, test_parse_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_parse_sockaddr_bytes);
	tcase_add_test(tc, test_parse_unix_max_length);
	tcase_add_loop_test(
	    tc, test_parse_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_from_sockaddr_inet);
	tcase_add_test(tc, test_from_sockaddr_unix);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(address_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
