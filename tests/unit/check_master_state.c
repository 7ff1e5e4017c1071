/* check_master_state.c: unit tests for the master's transition table. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "log.h"
#include "master.h"

#define NSTATES (MASTER_EXITED + 1)

/*
 * The transitions the master may make, written out pair by pair so that a
 * change to master_state.c's table shows up here as a failing pair. Every
 * other pair, between different states, must be refused.
 */
static const struct {
	enum master_state from, to;
} allowed[] = {
    {MASTER_STARTING, MASTER_SERVING},
    {MASTER_STARTING, MASTER_UPGRADING},
    {MASTER_STARTING, MASTER_HANDED_OVER},
    {MASTER_STARTING, MASTER_RETIRED},
    {MASTER_STARTING, MASTER_RELOAD_QUEUED},
    {MASTER_STARTING, MASTER_STOPPING},
    {MASTER_SERVING, MASTER_RELOADING},
    {MASTER_SERVING, MASTER_UPGRADING},
    {MASTER_SERVING, MASTER_RETIRED},
    {MASTER_SERVING, MASTER_STOPPING},
    {MASTER_RELOADING, MASTER_SERVING},
    {MASTER_RELOADING, MASTER_UPGRADING},
    {MASTER_RELOADING, MASTER_HANDED_OVER},
    {MASTER_RELOADING, MASTER_RETIRED},
    {MASTER_RELOADING, MASTER_RELOAD_QUEUED},
    {MASTER_RELOADING, MASTER_STOPPING},
    {MASTER_RELOAD_QUEUED, MASTER_SERVING},
    {MASTER_RELOAD_QUEUED, MASTER_UPGRADING},
    {MASTER_RELOAD_QUEUED, MASTER_HANDED_OVER},
    {MASTER_RELOAD_QUEUED, MASTER_RETIRED},
    {MASTER_RELOAD_QUEUED, MASTER_STOPPING},
    {MASTER_UPGRADING, MASTER_SERVING},
    {MASTER_UPGRADING, MASTER_HANDED_OVER},
    {MASTER_UPGRADING, MASTER_RELOADING},
    {MASTER_UPGRADING, MASTER_STOPPING},
    {MASTER_HANDED_OVER, MASTER_UPGRADING},
    {MASTER_HANDED_OVER, MASTER_RETIRED},
    {MASTER_HANDED_OVER, MASTER_RELOADING},
    {MASTER_HANDED_OVER, MASTER_STOPPING},
    {MASTER_RETIRED, MASTER_RELOADING},
    {MASTER_RETIRED, MASTER_HANDED_OVER},
    {MASTER_RETIRED, MASTER_STOPPING},
    {MASTER_STOPPING, MASTER_EXITED},
};

static char log_path[64];

/* Log into a file of our own, to check what master_state_set says. */
static void
setup(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/check_master_state.XXXXXX");
	fd = mkstemp(log_path);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(log_open(log_path), 0);
}

static void
teardown(void)
{
	log_close();
	unlink(log_path);
}

/* The whole log so far (static buffer). */
static const char *
log_text(void)
{
	static char buf[65536];
	ssize_t n;
	int fd;

	fd = open(log_path, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static int
is_allowed(enum master_state from, enum master_state to)
{
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i].from == from && allowed[i].to == to)
			return 1;
	return 0;
}

static struct master *
master_in(enum master_state s)
{
	static struct master m;

	memset(&m, 0, sizeof(m));
	m.state = s;
	return &m;
}

/* One loop iteration per source state: all nine targets tried. */
START_TEST(test_table)
{
	enum master_state from = (enum master_state)_i, to;
	struct master *m;
	int rc;

	for (to = 0; to < NSTATES; to++) {
		m = master_in(from);
		rc = master_state_set(m, to);
		if (from == to || is_allowed(from, to)) {
			ck_assert_msg(rc == 0 && m->state == to,
			    "%s -> %s: refused", master_state_name(from),
			    master_state_name(to));
		} else {
			ck_assert_msg(rc == -1, "%s -> %s: allowed",
			    master_state_name(from), master_state_name(to));
			ck_assert_msg(m->state == from,
			    "%s -> %s: refused but the state changed to %s",
			    master_state_name(from), master_state_name(to),
			    master_state_name(m->state));
		}
	}
}
END_TEST

START_TEST(test_refusals_named)
{
	struct master *m;
	enum master_state to;

	m = master_in(MASTER_STOPPING);
	ck_assert_int_eq(master_state_set(m, MASTER_SERVING), -1);
	ck_assert_int_eq(m->state, MASTER_STOPPING);

	m = master_in(MASTER_STARTING);
	ck_assert_int_eq(master_state_set(m, MASTER_RELOADING), -1);
	ck_assert_int_eq(m->state, MASTER_STARTING);

	for (to = 0; to < MASTER_EXITED; to++) {
		m = master_in(MASTER_EXITED);
		ck_assert_int_eq(master_state_set(m, to), -1);
		ck_assert_int_eq(m->state, MASTER_EXITED);
	}
}
END_TEST

/* A zeroed master starts in STARTING: master_init relies on it. */
START_TEST(test_zeroed_is_starting)
{
	struct master m;

	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(m.state, MASTER_STARTING);
	ck_assert_str_eq(master_state_name(m.state), "starting");
	ck_assert_int_eq(master_state_busy(&m), 1);
	ck_assert_int_eq(master_state_stopping(&m), 0);
}
END_TEST

START_TEST(test_names)
{
	static const char *const want[NSTATES] = {"starting", "serving",
	    "reloading", "reload queued", "upgrading", "handed over", "retired",
	    "stopping", "exited"};
	enum master_state s;

	for (s = 0; s < NSTATES; s++) {
		ck_assert_ptr_nonnull(master_state_name(s));
		ck_assert_str_eq(master_state_name(s), want[s]);
	}
}
END_TEST

START_TEST(test_logged)
{
	struct master *m = master_in(MASTER_SERVING);

	ck_assert_int_eq(master_state_set(m, MASTER_RELOADING), 0);
	ck_assert_int_eq(master_state_set(m, MASTER_RELOADING), 0);
	ck_assert_int_eq(master_state_set(m, MASTER_EXITED), -1);
	ck_assert_ptr_nonnull(
	    strstr(log_text(), "master: serving -> reloading\n"));
	ck_assert_ptr_nonnull(strstr(log_text(),
	    "master: impossible transition reloading -> exited, ignored\n"));
	/* The same state again is no transition and is not logged. */
	ck_assert_ptr_null(strstr(log_text(), "reloading -> reloading"));
}
END_TEST

START_TEST(test_settled)
{
	struct generation *g = (struct generation *)&g; /* any non-NULL */
	struct master *m = master_in(MASTER_RELOADING);

	m->upgrade_pid = 0;
	m->current = g;
	ck_assert_int_eq(master_state_settled(m), MASTER_SERVING);
	m->current = NULL;
	ck_assert_int_eq(master_state_settled(m), MASTER_RETIRED);
	m->upgrade_pid = 4242;
	m->current = g;
	ck_assert_int_eq(master_state_settled(m), MASTER_UPGRADING);
	m->current = NULL;
	ck_assert_int_eq(master_state_settled(m), MASTER_HANDED_OVER);
}
END_TEST

/*
 * Wherever a starting generation settles, the busy states must be allowed
 * to go there: a refusal would leave the master busy for ever.
 */
START_TEST(test_settled_reachable)
{
	static const enum master_state busy[] = {
	    MASTER_STARTING, MASTER_RELOADING, MASTER_RELOAD_QUEUED};
	struct generation *g = (struct generation *)&g;
	struct master *m;
	enum master_state want;
	size_t i;
	int k;

	for (i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
		for (k = 0; k < 4; k++) {
			m = master_in(busy[i]);
			ck_assert_int_eq(master_state_busy(m), 1);
			m->upgrade_pid = (k & 1) ? 4242 : 0;
			m->current = (k & 2) ? g : NULL;
			want = master_state_settled(m);
			ck_assert_msg(master_state_set(m, want) == 0,
			    "%s cannot settle in %s",
			    master_state_name(busy[i]),
			    master_state_name(want));
			ck_assert_int_eq(m->state, want);
			ck_assert_int_eq(master_state_busy(m), 0);
		}
	}
}
END_TEST

START_TEST(test_busy_stopping)
{
	enum master_state s;
	struct master *m;

	for (s = 0; s < NSTATES; s++) {
		m = master_in(s);
		ck_assert_int_eq(master_state_busy(m),
		    s == MASTER_STARTING || s == MASTER_RELOADING ||
		        s == MASTER_RELOAD_QUEUED);
		ck_assert_int_eq(master_state_stopping(m),
		    s == MASTER_STOPPING || s == MASTER_EXITED);
	}
}
END_TEST

static Suite *
master_state_suite(void)
{
	Suite *s = suite_create("master_state");
	TCase *tc = tcase_create("master_state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_table, 0, NSTATES);
	tcase_add_test(tc, test_refusals_named);
	tcase_add_test(tc, test_zeroed_is_starting);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_logged);
	tcase_add_test(tc, test_settled);
	tcase_add_test(tc, test_settled_reachable);
	tcase_add_test(tc, test_busy_stopping);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(master_state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
