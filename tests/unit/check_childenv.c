/* check_childenv.c: unit tests for the worker's argv and environment. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "childenv.h"
#include "config.h"

static const char two_listeners[] =
    "[app]\n"
    "command = /bin/app --http={fd:http} --admin=unix://{addr:admin}\n"
    "    -x{fd:admin}{fd:http}, {addr:http} plain {not:a} {fd:http\\}\n"
    "env.GOMAXPROCS = 2\n"
    "[listen http]\n"
    "address = 127.0.0.1:8080\n"
    "[listen admin]\n"
    "address = unix:/run/app.sock\n";

static char *const base[] = {
    "PATH=/usr/bin",
    "LISTEN_FDS=9",
    "LISTEN_PID=1",
    "LISTEN_FDNAMES=old",
    "HOME=/root",
    "NOTIFY_SOCKET=/run/systemd/notify",
    "EINHORN_X=1",
    "EINHORN_FD_COUNT=5",
    "BATON_Y=2",
    "BATON_GENERATION=1",
    "SERVER_STARTER_PORT=80=3",
    "LISTENER=kept",
    "NOTIFY_SOCKETX=kept",
    "BATONX=kept",
    "EMPTY=",
    NULL,
};

static struct config *
load(const char *text)
{
	char err[CONFIG_ERR_MAX] = "";
	struct config *cfg;

	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "unexpected error: %s", err);
	return cfg;
}

static void
assert_vec(char **got, const char *const *want)
{
	size_t i;

	ck_assert_ptr_nonnull(got);
	for (i = 0; want[i] != NULL; i++) {
		ck_assert_msg(got[i] != NULL, "missing [%zu] %s", i, want[i]);
		ck_assert_str_eq(got[i], want[i]);
	}
	ck_assert_msg(got[i] == NULL, "extra [%zu] %s", i, got[i]);
}

START_TEST(test_argv)
{
	static const char *const want[] = {"/bin/app", "--http=3",
	    "--admin=unix:///run/app.sock", "-x43,", "127.0.0.1:8080", "plain",
	    "{not:a}", "3", NULL};
	struct config *cfg = load(two_listeners);
	char err[256] = "", **argv;

	/* The last word shows that quoting does not hide a placeholder. */
	argv = childenv_argv(cfg, err, sizeof(err));
	ck_assert_msg(argv != NULL, "%s", err);
	assert_vec(argv, want);
	childenv_free(argv);
	config_free(cfg);
}
END_TEST

START_TEST(test_argv_ipv6_and_plain)
{
	static const char *const want[] = {"app", "[::1]:80", "4", NULL};
	static const char *const plain[] = {"/bin/true", NULL};
	struct config *cfg;
	char err[256] = "", **argv;

	cfg =
	    load("[app]\ncommand = app {addr:b} {fd:b}\n"
	         "[listen a]\naddress = 80\n[listen b]\naddress = [::1]:80\n");
	argv = childenv_argv(cfg, err, sizeof(err));
	assert_vec(argv, want);
	childenv_free(argv);
	config_free(cfg);

	cfg = load("[app]\ncommand = /bin/true\n");
	argv = childenv_argv(cfg, err, sizeof(err));
	assert_vec(argv, plain);
	childenv_free(argv);
	config_free(cfg);
}
END_TEST

START_TEST(test_argv_unknown)
{
	struct config *cfg = load(two_listeners);
	char err[256] = "";

	/* Config validation stops these first; childenv must still cope. */
	free(cfg->argv[1]);
	cfg->argv[1] = strdup("--x={fd:http}{addr:nope}");
	ck_assert_ptr_null(childenv_argv(cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "{addr:nope}: no [listen nope] section");

	free(cfg->argv[1]);
	cfg->argv[1] = strdup("{fd:http");
	ck_assert_ptr_null(childenv_argv(cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "\"{fd:http\": unterminated placeholder (use "
	                      "{fd:NAME} or {addr:NAME})");
	config_free(cfg);
}
END_TEST

START_TEST(test_envp_two_listeners)
{
	static const char *const want[] = {
	    "PATH=/usr/bin",
	    "HOME=/root",
	    "LISTENER=kept",
	    "NOTIFY_SOCKETX=kept",
	    "BATONX=kept",
	    "EMPTY=",
	    "LISTEN_FDS=2",
	    "LISTEN_PID=0",
	    "LISTEN_FDNAMES=http:admin",
	    "SERVER_STARTER_PORT=127.0.0.1:8080=3;/run/app.sock=4",
	    "EINHORN_FD_COUNT=2",
	    "EINHORN_FD_0=3",
	    "EINHORN_FD_1=4",
	    "BATON_GENERATION=7",
	    "BATON_WORKER=1",
	    "NOTIFY_SOCKET=/run/baton/notify.sock",
	    "GOMAXPROCS=2",
	    NULL,
	};
	struct config *cfg = load(two_listeners);
	ssize_t slot = -2;
	char **env;

	env = childenv_envp(base, cfg, 7, 1, "/run/baton/notify.sock", &slot);
	assert_vec(env, want);
	ck_assert_int_eq(slot, 7);

	childenv_set_pid(env, slot, 12345);
	ck_assert_str_eq(env[slot], "LISTEN_PID=12345");
	childenv_set_pid(env, slot, INT_MAX);
	ck_assert_str_eq(env[slot], "LISTEN_PID=2147483647");
	/* A shorter pid must not leave digits of the longer one behind. */
	childenv_set_pid(env, slot, 7);
	ck_assert_str_eq(env[slot], "LISTEN_PID=7");
	ck_assert_str_eq(env[slot + 1], "LISTEN_FDNAMES=http:admin");
	childenv_free(env);
	config_free(cfg);
}
END_TEST

START_TEST(test_envp_override_and_no_notify)
{
	static const char *const want[] = {
	    "HOME=/root",
	    "LISTEN_FDS=1",
	    "LISTEN_PID=0",
	    "LISTEN_FDNAMES=web",
	    "SERVER_STARTER_PORT=[::]:443=3",
	    "EINHORN_FD_COUNT=1",
	    "EINHORN_FD_0=3",
	    "BATON_GENERATION=0",
	    "BATON_WORKER=0",
	    "PATH=/opt/app/bin:/usr/bin",
	    "LANG=C.UTF-8",
	    NULL,
	};
	static char *const small_base[] = {"PATH=/usr/bin", "HOME=/root",
	    "NOTIFY_SOCKET=/run/systemd/notify", NULL};
	struct config *cfg;
	ssize_t slot = -2;
	char **env;

	cfg = load("[app]\ncommand = app\nenv.PATH = /opt/app/bin:/usr/bin\n"
	           "env.LANG = C.UTF-8\n[listen web]\naddress = [::]:443\n");
	env = childenv_envp(small_base, cfg, 0, 0, NULL, &slot);
	assert_vec(env, want);
	ck_assert_int_eq(slot, 2);
	childenv_set_pid(env, slot, 99);
	ck_assert_str_eq(env[2], "LISTEN_PID=99");
	childenv_free(env);
	config_free(cfg);
}
END_TEST

START_TEST(test_envp_no_listeners)
{
	static const char *const want[] = {
	    "PATH=/usr/bin",
	    "HOME=/root",
	    "LISTENER=kept",
	    "NOTIFY_SOCKETX=kept",
	    "BATONX=kept",
	    "EMPTY=",
	    "BATON_GENERATION=4294967295",
	    "BATON_WORKER=4095",
	    "NOTIFY_SOCKET=/n",
	    NULL,
	};
	static const char *const bare[] = {
	    "BATON_GENERATION=3",
	    "BATON_WORKER=0",
	    NULL,
	};
	struct config *cfg = load("[app]\ncommand = app\n");
	ssize_t slot = -2;
	char **env;

	env = childenv_envp(base, cfg, 4294967295u, 4095, "/n", &slot);
	assert_vec(env, want);
	ck_assert_int_eq(slot, -1);
	/* Without a slot there is nothing to write, and nothing breaks. */
	childenv_set_pid(env, slot, 42);
	assert_vec(env, want);
	childenv_free(env);

	env = childenv_envp(NULL, cfg, 3, 0, NULL, &slot);
	assert_vec(env, bare);
	ck_assert_int_eq(slot, -1);
	childenv_free(env);
	config_free(cfg);
}
END_TEST

START_TEST(test_envp_env_replaces_baton_vars)
{
	static const char *const want[] = {
	    "LISTEN_FDS=1",
	    "LISTEN_FDNAMES=a",
	    "SERVER_STARTER_PORT=/s=3",
	    "EINHORN_FD_COUNT=1",
	    "EINHORN_FD_0=3",
	    "BATON_GENERATION=1",
	    "BATON_WORKER=2",
	    "LISTEN_PID=5",
	    NULL,
	};
	char err[256];
	struct listen_config l = {.name = "a", .backlog = 1, .mode = -1};
	char *env_entries[] = {"LISTEN_PID=5", NULL};
	struct config cfg;
	ssize_t slot = -2;
	char **env;

	/* config refuses such a file; the contract still holds here. */
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(
	    address_parse("unix:/s", &l.addr, err, sizeof(err)), 0);
	cfg.listeners = &l;
	cfg.nlisteners = 1;
	cfg.env = env_entries;
	cfg.nenv = 1;
	env = childenv_envp(NULL, &cfg, 1, 2, NULL, &slot);
	assert_vec(env, want);
	ck_assert_int_eq(slot, -1);
	childenv_free(env);
}
END_TEST

START_TEST(test_free_null)
{
	childenv_free(NULL);
}
END_TEST

static Suite *
childenv_suite(void)
{
	Suite *s = suite_create("childenv");
	TCase *tc = tcase_create("childenv");

	tcase_add_test(tc, test_argv);
	tcase_add_test(tc, test_argv_ipv6_and_plain);
	tcase_add_test(tc, test_argv_unknown);
	tcase_add_test(tc, test_envp_two_listeners);
	tcase_add_test(tc, test_envp_override_and_no_notify);
	tcase_add_test(tc, test_envp_no_listeners);
	tcase_add_test(tc, test_envp_env_replaces_baton_vars);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(childenv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
