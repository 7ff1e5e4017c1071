/* check_parse.c: unit tests for the checked parsers of parse.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "parse.h"

#define NOT_INT(s, lo, hi)                                                     \
	{                                                                      \
		s, lo, hi, 0, EINVAL                                           \
	}
#define RANGE(s, lo, hi)                                                       \
	{                                                                      \
		s, lo, hi, 0, ERANGE                                           \
	}

static const struct {
	const char *in;
	long long min, max;
	long long want;
	int error; /* 0: want is the value */
} ints[] = {
    {"0", 0, 10, 0, 0},
    {"10", 0, 10, 10, 0},
    {"007", 0, 10, 7, 0},
    {"4096", 1, 4096, 4096, 0},
    {"1", 1, 4096, 1, 0},
    {"-5", -10, 10, -5, 0},
    {"-10", -10, 10, -10, 0},
    {"9223372036854775807", 0, LLONG_MAX, LLONG_MAX, 0},
    {"-9223372036854775808", LLONG_MIN, 0, LLONG_MIN, 0},
    /* range edges */
    RANGE("0", 1, 4096),
    RANGE("4097", 1, 4096),
    RANGE("-11", -10, 10),
    /* overflow is out of range, not a wrapped value */
    RANGE("9223372036854775808", 0, LLONG_MAX),
    RANGE("99999999999999999999999", 1, 4096),
    RANGE("-9223372036854775809", LLONG_MIN, 0),
    /* the whole input, digits only */
    NOT_INT("", 0, 10),
    NOT_INT("-", -10, 10),
    NOT_INT("-1", 0, 10),
    NOT_INT("+1", 0, 10),
    NOT_INT(" 1", 0, 10),
    NOT_INT("1 ", 0, 10),
    NOT_INT("1x", 0, 10),
    NOT_INT("0x10", 0, 100),
    NOT_INT("1.5", 0, 10),
    NOT_INT("--1", -10, 10),
};

START_TEST(test_int)
{
	char err[256] = "";
	long long v = -42;
	int r;

	errno = 0;
	r = parse_int(
	    ints[_i].in, ints[_i].min, ints[_i].max, &v, err, sizeof(err));
	if (ints[_i].error == 0) {
		ck_assert_msg(r == 0, "%s: %s", ints[_i].in, err);
		ck_assert_int_eq(v, ints[_i].want);
		return;
	}
	ck_assert_msg(r == -1, "%s accepted", ints[_i].in);
	ck_assert_int_eq(errno, ints[_i].error);
	ck_assert_int_eq(v, -42);
}
END_TEST

START_TEST(test_int_messages)
{
	char err[256];
	long long v;

	ck_assert_int_eq(parse_int("abc", 1, 4096, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"abc\" is not a number (1..4096)");
	ck_assert_int_eq(parse_int("", 1, 4096, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"\" is not a number (1..4096)");
	ck_assert_int_eq(parse_int("0", 1, 4096, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "0 is out of range (1..4096)");
	/* No room for a reason is no reason to crash. */
	ck_assert_int_eq(parse_int("x", 1, 2, &v, NULL, 0), -1);
}
END_TEST

#define DUR_HINT "(use 30, 30s, 500ms, 2m)"

static const struct {
	const char *in;
	long long ms; /* -1: error */
	const char *err;
} durations[] = {
    {"0", 0, NULL},
    {"30", 30000, NULL},
    {"30s", 30000, NULL},
    {"500ms", 500, NULL},
    {"2m", 120000, NULL},
    {"1h", 3600000, NULL},
    {"0ms", 0, NULL},
    {"007", 7000, NULL},
    {"24h", 86400000, NULL},
    {"1440m", 86400000, NULL},
    {"86400", 86400000, NULL},
    {"86400000ms", 86400000, NULL},
    {"", -1, "\"\" is not a duration " DUR_HINT},
    {"5x", -1, "\"5x\" is not a duration " DUR_HINT},
    {"s", -1, "\"s\" is not a duration " DUR_HINT},
    {"ms", -1, "\"ms\" is not a duration " DUR_HINT},
    {"-1", -1, "\"-1\" is not a duration " DUR_HINT},
    {"+1", -1, "\"+1\" is not a duration " DUR_HINT},
    {"1.5s", -1, "\"1.5s\" is not a duration " DUR_HINT},
    {" 1", -1, "\" 1\" is not a duration " DUR_HINT},
    {"1 s", -1, "\"1 s\" is not a duration " DUR_HINT},
    {"1s ", -1, "\"1s \" is not a duration " DUR_HINT},
    {"30S", -1, "\"30S\" is not a duration " DUR_HINT},
    {"1d", -1, "\"1d\" is not a duration " DUR_HINT},
    {"1sms", -1, "\"1sms\" is not a duration " DUR_HINT},
    {"1m30s", -1, "\"1m30s\" is not a duration " DUR_HINT},
    {"25h", -1, "\"25h\" is too long (max 24h)"},
    {"1441m", -1, "\"1441m\" is too long (max 24h)"},
    {"86401", -1, "\"86401\" is too long (max 24h)"},
    {"86400001ms", -1, "\"86400001ms\" is too long (max 24h)"},
    {"99999999999999999999999h", -1,
        "\"99999999999999999999999h\" is too long (max 24h)"},
    {"9223372036854775807", -1,
        "\"9223372036854775807\" is too long (max 24h)"},
};

START_TEST(test_durations)
{
	char err[256] = "";
	long long ms = -42;
	int r;

	r = parse_duration(
	    durations[_i].in, 0, PARSE_DURATION_MAX_MS, &ms, err, sizeof(err));
	if (durations[_i].ms >= 0) {
		ck_assert_msg(r == 0, "%s: %s", durations[_i].in, err);
		ck_assert_int_eq(ms, durations[_i].ms);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_str_eq(err, durations[_i].err);
		ck_assert_int_eq(ms, -42);
	}
}
END_TEST

START_TEST(test_duration_range)
{
	char err[256];
	long long ms = -42;

	/* "More than 0", as ready_timeout says. */
	ck_assert_int_eq(
	    parse_duration("0ms", 1, 1000, &ms, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_str_eq(err, "\"0ms\" is too short (must be more than 0)");
	ck_assert_int_eq(
	    parse_duration("1ms", 1, 1000, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 1);
	ck_assert_int_eq(
	    parse_duration("1s", 1, 1000, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 1000);
	ck_assert_int_eq(
	    parse_duration("1001ms", 1, 1000, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"1001ms\" is too long (max 1s)");
	ck_assert_int_eq(
	    parse_duration("500ms", 2000, 90000, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"500ms\" is too short (min 2s)");
	ck_assert_int_eq(
	    parse_duration("2m", 0, 90000, &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"2m\" is too long (max 90s)");
	ck_assert_int_eq(
	    parse_duration("x", 0, 90000, &ms, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

#define SIZE_HINT     "(use 512, 64K, 512M, 2G)"
#define SIZE_MAX_TEST (1LL << 40)

static const struct {
	const char *in;
	long long bytes; /* -1: error */
	const char *err;
} sizes[] = {
    {"0", 0, NULL},
    {"512", 512, NULL},
    {"64K", 65536, NULL},
    {"64k", 65536, NULL},
    {"512M", 512LL << 20, NULL},
    {"2G", 2LL << 30, NULL},
    {"2g", 2LL << 30, NULL},
    {"1024G", 1LL << 40, NULL},
    {"1025G", -1, "\"1025G\" is too large (max 1024G)"},
    {"99999999999999999999K", -1,
        "\"99999999999999999999K\" is too large (max 1024G)"},
    {"9007199254740992K", -1, "\"9007199254740992K\" is too large (max 1024G)"},
    {"", -1, "\"\" is not a size " SIZE_HINT},
    {"K", -1, "\"K\" is not a size " SIZE_HINT},
    {"-1", -1, "\"-1\" is not a size " SIZE_HINT},
    {"1.5G", -1, "\"1.5G\" is not a size " SIZE_HINT},
    {"1 G", -1, "\"1 G\" is not a size " SIZE_HINT},
    {"1GB", -1, "\"1GB\" is not a size " SIZE_HINT},
    {"1KiB", -1, "\"1KiB\" is not a size " SIZE_HINT},
    {"1T", -1, "\"1T\" is not a size " SIZE_HINT},
};

START_TEST(test_sizes)
{
	char err[256] = "";
	long long v = -42;
	int r;

	r = parse_size(sizes[_i].in, 0, SIZE_MAX_TEST, &v, err, sizeof(err));
	if (sizes[_i].bytes >= 0) {
		ck_assert_msg(r == 0, "%s: %s", sizes[_i].in, err);
		ck_assert_int_eq(v, sizes[_i].bytes);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_str_eq(err, sizes[_i].err);
		ck_assert_int_eq(v, -42);
	}
}
END_TEST

START_TEST(test_size_min)
{
	char err[256];
	long long v;

	ck_assert_int_eq(
	    parse_size("1K", 1LL << 20, SIZE_MAX_TEST, &v, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_str_eq(err, "\"1K\" is too small (min 1M)");
	ck_assert_int_eq(
	    parse_size("1M", 1LL << 20, SIZE_MAX_TEST, &v, err, sizeof(err)),
	    0);
	ck_assert_int_eq(v, 1LL << 20);
}
END_TEST

START_TEST(test_bools)
{
	static const char *const yes[] = {
	    "yes", "YES", "true", "True", "on", "ON", "1"};
	static const char *const no[] = {
	    "no", "No", "false", "FALSE", "off", "Off", "0"};
	static const char *const bad[] = {
	    "", "y", "n", "2", "01", "yes ", " no", "maybe", "truee"};
	char err[256];
	size_t i;
	int v;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		ck_assert_int_eq(parse_bool(yes[i], &v, err, sizeof(err)), 0);
		ck_assert_int_eq(v, 1);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = -1;
		ck_assert_int_eq(parse_bool(no[i], &v, err, sizeof(err)), 0);
		ck_assert_int_eq(v, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		ck_assert_int_eq(parse_bool(bad[i], &v, err, sizeof(err)), -1);
		ck_assert_int_eq(v, -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	parse_bool("maybe", &v, err, sizeof(err));
	ck_assert_str_eq(err,
	    "\"maybe\" is not a boolean (yes/no, true/false, on/off, 1/0)");
}
END_TEST

START_TEST(test_modes)
{
	static const struct {
		const char *in;
		int mode; /* -1: error */
	} modes[] = {
	    {"0660", 0660},
	    {"660", 0660},
	    {"0", 0},
	    {"7777", 07777},
	    {"07777", 07777},
	    {"0000000660", 0660},
	    {"10000", -1},
	    {"0999", -1},
	    {"", -1},
	    {"rw", -1},
	    {"-1", -1},
	    {"+660", -1},
	    {"0660 ", -1},
	    {"0x1a", -1},
	    {"77777777777777777777777777", -1},
	};
	char err[256];
	size_t i;
	int v;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		v = -42;
		if (modes[i].mode >= 0) {
			ck_assert_msg(
			    parse_mode(modes[i].in, &v, err, sizeof(err)) == 0,
			    "%s: %s", modes[i].in, err);
			ck_assert_int_eq(v, modes[i].mode);
		} else {
			ck_assert_msg(
			    parse_mode(modes[i].in, &v, err, sizeof(err)) == -1,
			    "%s accepted", modes[i].in);
			ck_assert_int_eq(v, -42);
		}
	}
	parse_mode("0999", &v, err, sizeof(err));
	ck_assert_str_eq(err, "\"0999\" is not an octal mode (like 0660)");
}
END_TEST

static const struct {
	const char *in;
	int sig;
} signal_names[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
    {"TERM", SIGTERM},
    {"WINCH", SIGWINCH},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"ALRM", SIGALRM},
    {"SIGTERM", SIGTERM},
    {"term", SIGTERM},
    {"sigterm", SIGTERM},
    {"SigHup", SIGHUP},
    {"sigwinch", SIGWINCH},
    {"15", 15},
    {"1", 1},
    {"9", 9},
    {"64", 64},
    {"0", -1},
    {"65", -1},
    {"-1", -1},
    {"+15", -1},
    {"9x", -1},
    {"", -1},
    {"SIG", -1},
    {"SIG15", -1},
    {"FOO", -1},
    {"TERMX", -1},
    {" TERM", -1},
    {"99999999999999999999", -1},
};

START_TEST(test_signals)
{
	char err[256] = "";
	int sig = -1, r;

	r = parse_signal(signal_names[_i].in, &sig, err, sizeof(err));
	if (signal_names[_i].sig == -1) {
		ck_assert_msg(r == -1, "%s accepted", signal_names[_i].in);
		ck_assert_int_eq(sig, -1);
	} else {
		ck_assert_msg(r == 0, "%s: %s", signal_names[_i].in, err);
		ck_assert_int_eq(sig, signal_names[_i].sig);
	}
}
END_TEST

START_TEST(test_signal_names)
{
	char err[256];
	int sig;

	ck_assert_str_eq(parse_signal_name(SIGTERM), "TERM");
	ck_assert_str_eq(parse_signal_name(SIGHUP), "HUP");
	ck_assert_str_eq(parse_signal_name(SIGQUIT), "QUIT");
	ck_assert_str_eq(parse_signal_name(SIGKILL), "KILL");
	ck_assert_str_eq(parse_signal_name(SIGWINCH), "WINCH");
	ck_assert_str_eq(parse_signal_name(SIGUSR2), "USR2");
	ck_assert_str_eq(parse_signal_name(SIGTTOU), "TTOU");
	ck_assert_str_eq(parse_signal_name(0), "?");
	ck_assert_str_eq(parse_signal_name(-1), "?");
	ck_assert_str_eq(parse_signal_name(40), "?");
	/* Every name it prints parses back to the same signal. */
	for (int i = 1; i < 32; i++) {
		const char *name = parse_signal_name(i);

		if (strcmp(name, "?") != 0) {
			ck_assert_int_eq(
			    parse_signal(name, &sig, err, sizeof(err)), 0);
			ck_assert_int_eq(sig, i);
		}
	}
	ck_assert_int_eq(parse_signal("FOO", &sig, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"FOO\" is not a signal (use a name like TERM "
	                      "or QUIT, or a number 1..64)");
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_int, 0, sizeof(ints) / sizeof(ints[0]));
	tcase_add_test(tc, test_int_messages);
	tcase_add_loop_test(
	    tc, test_durations, 0, sizeof(durations) / sizeof(durations[0]));
	tcase_add_test(tc, test_duration_range);
	tcase_add_loop_test(
	    tc, test_sizes, 0, sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_test(tc, test_size_min);
	tcase_add_test(tc, test_bools);
	tcase_add_test(tc, test_modes);
	tcase_add_loop_test(tc, test_signals, 0,
	    sizeof(signal_names) / sizeof(signal_names[0]));
	tcase_add_test(tc, test_signal_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
