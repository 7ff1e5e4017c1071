/* check_config.c: unit tests for config parsing, validation and helpers. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "config_keys.h"
#include "credentials.h"

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
expect_error(const char *text, const char *want)
{
	char err[CONFIG_ERR_MAX] = "";
	struct config *cfg;

	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg == NULL, "no error for:\n%s", text);
	ck_assert_str_eq(err, want);
}

/* DESIGN.md's example, made valid here: root exists everywhere, v6only
 * needs an IPv6 address and mode a UNIX one, intercept_bind is not in. */
static const char full_ini[] =
    "[baton]\n"
    "pidfile = /run/baton/app.pid\n"
    "control = /run/baton/app.sock   ; unix control socket for batonctl\n"
    "log = /var/log/baton.log        ; stderr | syslog | /path/to/file\n"
    "user = root                     ; workers run as this user/group\n"
    "group = root\n"
    "fdstore = yes                   ; keep listeners in systemd's fd store\n"
    "upgrade_retire_old = TRUE       ; after USR2, new master QUITs the old\n"
    "\n"
    "[app]\n"
    "command = /usr/local/bin/app -listen {fd:http} --admin={addr:admin}\n"
    "workers = 2\n"
    "directory = /srv/app\n"
    "ready = notify                  ; notify | listen | delay:S | tcp:H:P\n"
    "ready_timeout = 90\n"
    "ready_delay = 500ms             ; extra settle time after the check\n"
    "stop_signal = QUIT\n"
    "stop_timeout = 2m\n"
    "intercept_bind = no\n"
    "env.GOMAXPROCS = 2\n"
    "env.APP_MODE = production ; a comment\n"
    "env.EMPTY =\n"
    "\n"
    "[listen http]\n"
    "address = [::]:8080             ; or [::]:8080, or unix:/run/app.sock\n"
    "backlog = 4096\n"
    "v6only = no                     ; IPv6 only\n"
    "\n"
    "[listen admin]\n"
    "address = unix:/run/app.sock\n"
    "mode = 0660                     ; UNIX sockets only\n";

START_TEST(test_full)
{
	struct config *cfg = load(full_ini);

	ck_assert_str_eq(cfg->path, "t.ini");
	ck_assert_str_eq(cfg->pidfile, "/run/baton/app.pid");
	ck_assert_str_eq(cfg->control, "/run/baton/app.sock");
	ck_assert_str_eq(cfg->log, "/var/log/baton.log");
	ck_assert_str_eq(cfg->user, "root");
	ck_assert_str_eq(cfg->group, "root");
	ck_assert_int_eq(cfg->user_line, 5);
	ck_assert_int_eq(cfg->group_line, 6);
	ck_assert_int_eq(cfg->fdstore, 1);
	ck_assert_int_eq(cfg->upgrade_retire_old, 1);

	ck_assert_str_eq(cfg->command,
	    "/usr/local/bin/app -listen {fd:http} --admin={addr:admin}");
	ck_assert_int_eq(cfg->argc, 4);
	ck_assert_str_eq(cfg->argv[0], "/usr/local/bin/app");
	ck_assert_str_eq(cfg->argv[1], "-listen");
	ck_assert_str_eq(cfg->argv[2], "{fd:http}");
	ck_assert_str_eq(cfg->argv[3], "--admin={addr:admin}");
	ck_assert_ptr_null(cfg->argv[4]);
	ck_assert_int_eq(cfg->workers, 2);
	ck_assert_str_eq(cfg->directory, "/srv/app");
	ck_assert_int_eq(cfg->ready, READY_NOTIFY);
	ck_assert_int_eq(cfg->ready_timeout_ms, 90000);
	ck_assert_int_eq(cfg->ready_delay_ms, 500);
	ck_assert_int_eq(cfg->stop_signal, SIGQUIT);
	ck_assert_int_eq(cfg->stop_timeout_ms, 120000);
	ck_assert_int_eq(cfg->intercept_bind, 0);
	ck_assert_uint_eq(cfg->nenv, 3);
	ck_assert_str_eq(cfg->env[0], "GOMAXPROCS=2");
	ck_assert_str_eq(cfg->env[1], "APP_MODE=production");
	ck_assert_str_eq(cfg->env[2], "EMPTY=");
	ck_assert_ptr_null(cfg->env[3]);

	ck_assert_uint_eq(cfg->nlisteners, 2);
	ck_assert_str_eq(cfg->listeners[0].name, "http");
	ck_assert_str_eq(cfg->listeners[0].addr.text, "[::]:8080");
	ck_assert_int_eq(cfg->listeners[0].addr.ss.ss_family, AF_INET6);
	ck_assert_int_eq(cfg->listeners[0].backlog, 4096);
	ck_assert_int_eq(cfg->listeners[0].v6only, 0);
	ck_assert_int_eq(cfg->listeners[0].mode, -1);
	ck_assert_int_eq(cfg->listeners[0].line, 24);
	ck_assert_str_eq(cfg->listeners[1].name, "admin");
	ck_assert_str_eq(cfg->listeners[1].addr.text, "unix:/run/app.sock");
	ck_assert_int_eq(cfg->listeners[1].addr.ss.ss_family, AF_UNIX);
	ck_assert_int_eq(cfg->listeners[1].backlog, 511);
	ck_assert_int_eq(cfg->listeners[1].mode, 0660);
	ck_assert_int_eq(cfg->listeners[1].line, 29);

	ck_assert_int_eq(config_listener_index(cfg, "http"), 0);
	ck_assert_int_eq(config_listener_index(cfg, "admin"), 1);
	ck_assert_int_eq(config_listener_index(cfg, "htt"), -1);
	ck_assert_int_eq(config_listener_index(cfg, "https"), -1);
	config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
	struct config *cfg = load("[app]\ncommand = /bin/true\n");

	ck_assert_ptr_null(cfg->pidfile);
	ck_assert_ptr_null(cfg->control);
	ck_assert_str_eq(cfg->log, "stderr");
	ck_assert_ptr_null(cfg->user);
	ck_assert_ptr_null(cfg->group);
	ck_assert_int_eq(cfg->fdstore, 0);
	ck_assert_int_eq(cfg->upgrade_retire_old, 0);
	ck_assert_int_eq(cfg->argc, 1);
	ck_assert_str_eq(cfg->argv[0], "/bin/true");
	ck_assert_int_eq(cfg->workers, 1);
	ck_assert_ptr_null(cfg->directory);
	ck_assert_int_eq(cfg->ready, READY_NONE);
	ck_assert_ptr_null(cfg->probe_host);
	ck_assert_ptr_null(cfg->probe_path);
	ck_assert_int_eq(cfg->ready_timeout_ms, 60000);
	ck_assert_int_eq(cfg->ready_delay_ms, 0);
	ck_assert_int_eq(cfg->stop_signal, SIGTERM);
	ck_assert_int_eq(cfg->stop_timeout_ms, 30000);
	ck_assert_int_eq(cfg->intercept_bind, 0);
	ck_assert_uint_eq(cfg->nenv, 0);
	ck_assert_ptr_nonnull(cfg->env);
	ck_assert_ptr_null(cfg->env[0]);
	ck_assert_uint_eq(cfg->nlisteners, 0);
	config_free(cfg);

	cfg = load("[app]\ncommand = a\n[listen x]\naddress = 80\n");
	ck_assert_uint_eq(cfg->nlisteners, 1);
	ck_assert_int_eq(cfg->listeners[0].backlog, 511);
	ck_assert_int_eq(cfg->listeners[0].v6only, 0);
	ck_assert_int_eq(cfg->listeners[0].mode, -1);
	ck_assert_str_eq(cfg->listeners[0].addr.text, "0.0.0.0:80");
	config_free(cfg);
}
END_TEST

START_TEST(test_user_group)
{
	struct config *cfg;

	/* config.c keeps names and lines only: no lookup on a reload. */
	cfg = load("[baton]\nuser = baton-no-such-user\n[app]\ncommand = a\n");
	ck_assert_str_eq(cfg->user, "baton-no-such-user");
	ck_assert_int_eq(cfg->user_line, 2);
	ck_assert_ptr_null(cfg->group);
	ck_assert_int_eq(cfg->group_line, 0);
	config_free(cfg);

	cfg = load("[baton]\ngroup = nogroup\nuser = daemon\n[app]\n"
	           "command = a\n");
	ck_assert_str_eq(cfg->user, "daemon");
	ck_assert_int_eq(cfg->user_line, 3);
	ck_assert_str_eq(cfg->group, "nogroup");
	ck_assert_int_eq(cfg->group_line, 2);
	config_free(cfg);

	cfg = load("[baton]\nlog = syslog\n[app]\ncommand = a\n");
	ck_assert_str_eq(cfg->log, "syslog");
	config_free(cfg);
}
END_TEST

START_TEST(test_credentials)
{
	struct credentials c;
	char err[256] = "";
	int i, has;

	/* Without group, the user's primary group, and its groups. */
	ck_assert_int_eq(
	    credentials_resolve("daemon", NULL, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.uid, 1);
	ck_assert_int_eq(c.gid, 1);
	ck_assert_int_ge(c.ngroups, 1);
	for (i = 0, has = 0; i < c.ngroups; i++)
		has |= c.groups[i] == 1;
	ck_assert_int_eq(has, 1);
	credentials_free(&c);

	/* group wins over the primary group. */
	ck_assert_int_eq(
	    credentials_resolve("daemon", "nogroup", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.uid, 1);
	ck_assert_int_eq(c.gid, 65534);
	credentials_free(&c);

	/* A group alone is the only group. */
	ck_assert_int_eq(
	    credentials_resolve(NULL, "nogroup", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.gid, 65534);
	ck_assert_int_eq(c.ngroups, 1);
	ck_assert_int_eq(c.groups[0], 65534);
	credentials_free(&c);

	/* Neither: nothing to change. */
	ck_assert_int_eq(
	    credentials_resolve(NULL, NULL, &c, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.groups);
	credentials_free(&c);

	ck_assert_int_eq(credentials_resolve("baton-no-such-user", "nogroup",
	                     &c, err, sizeof(err)),
	    CREDENTIALS_EUSER);
	ck_assert_str_eq(err, "\"baton-no-such-user\": no such user");
	ck_assert_ptr_null(c.groups);
	ck_assert_int_eq(credentials_resolve("daemon", "baton-no-such-group",
	                     &c, err, sizeof(err)),
	    CREDENTIALS_EGROUP);
	ck_assert_str_eq(err, "\"baton-no-such-group\": no such group");
	ck_assert_ptr_null(c.groups);
}
END_TEST

START_TEST(test_ready_kinds)
{
	struct config *cfg;

	cfg = load("[app]\ncommand = a\nready = none\n");
	ck_assert_int_eq(cfg->ready, READY_NONE);
	config_free(cfg);

	cfg = load("[app]\ncommand = a\nready = delay:5s\n");
	ck_assert_int_eq(cfg->ready, READY_DELAY);
	ck_assert_int_eq(cfg->ready_arg_ms, 5000);
	config_free(cfg);

	cfg = load("[app]\ncommand = a\nready = delay:250ms\n");
	ck_assert_int_eq(cfg->ready_arg_ms, 250);
	config_free(cfg);

	cfg = load("[app]\ncommand = a\nready = tcp:127.0.0.1:9000\n");
	ck_assert_int_eq(cfg->ready, READY_TCP);
	ck_assert_str_eq(cfg->probe.text, "127.0.0.1:9000");
	ck_assert_str_eq(cfg->probe_host, "127.0.0.1:9000");
	ck_assert_ptr_null(cfg->probe_path);
	config_free(cfg);

	cfg = load("[app]\ncommand = a\nready = tcp:[::1]:9000\n");
	ck_assert_int_eq(cfg->ready, READY_TCP);
	ck_assert_str_eq(cfg->probe.text, "[::1]:9000");
	config_free(cfg);

	cfg = load("[app]\ncommand = a\nready = http://localhost:8080\n");
	ck_assert_int_eq(cfg->ready, READY_HTTP);
	ck_assert_str_eq(cfg->probe.text, "127.0.0.1:8080");
	ck_assert_str_eq(cfg->probe_host, "localhost:8080");
	ck_assert_str_eq(cfg->probe_path, "/");
	config_free(cfg);

	cfg = load("[app]\ncommand = a\n"
	           "ready = http://[::1]:8080/health?full=1;x\n");
	ck_assert_int_eq(cfg->ready, READY_HTTP);
	ck_assert_str_eq(cfg->probe.text, "[::1]:8080");
	ck_assert_str_eq(cfg->probe_host, "[::1]:8080");
	ck_assert_str_eq(cfg->probe_path, "/health?full=1;x");
	config_free(cfg);
}
END_TEST

START_TEST(test_continuation)
{
	struct config *cfg;

	cfg = load("[app]\n"
	           "command = /bin/app\n"
	           "    --flag {fd:http}\n"
	           "\t--other 'x y' ; a comment\n"
	           "# a full comment line\n"
	           "\n"
	           "    --last\n"
	           "workers = 3\n"
	           "[listen http]\n"
	           "address = 80\n");
	ck_assert_str_eq(
	    cfg->command, "/bin/app --flag {fd:http} --other 'x y' --last");
	ck_assert_int_eq(cfg->argc, 6);
	ck_assert_str_eq(cfg->argv[4], "x y");
	ck_assert_str_eq(cfg->argv[5], "--last");
	ck_assert_int_eq(cfg->workers, 3);
	config_free(cfg);

	/* The Python configparser style: everything on the next lines. */
	cfg = load("[app]\ncommand =\n  /bin/app\n  -v\n");
	ck_assert_str_eq(cfg->command, "/bin/app -v");
	ck_assert_int_eq(cfg->argc, 2);
	config_free(cfg);

	/* An indented key right after a section header is a plain key... */
	cfg = load("[app]\n  command = a\nworkers = 4\n");
	ck_assert_str_eq(cfg->command, "a");
	ck_assert_int_eq(cfg->workers, 4);
	config_free(cfg);

	/* ...but after another key it continues that key, as in inih. */
	cfg = load("[app]\ncommand = a\n  workers = 4\n");
	ck_assert_str_eq(cfg->command, "a workers = 4");
	ck_assert_int_eq(cfg->workers, 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_comments)
{
	struct config *cfg;

	cfg = load("; a comment\n"
	           "# another\n"
	           "\n"
	           "[app] ; trailing comment\n"
	           "  ; indented comment\n"
	           "command = /bin/app#not-a-comment a;b ; comment\n"
	           "    # indented hash: a comment, not a continuation\n"
	           "env.X = 2;3 is no comment without a space before\n"
	           "[listen a]#x\n"
	           "address = 81\n");
	ck_assert_str_eq(cfg->command, "/bin/app#not-a-comment a;b");
	ck_assert_str_eq(
	    cfg->env[0], "X=2;3 is no comment without a space before");
	ck_assert_int_eq(cfg->nlisteners, 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_crlf_bom)
{
	struct config *cfg;

	cfg = load("\xef\xbb\xbf[app]\r\ncommand = /bin/app -x\r\n"
	           "workers = 7\r\n");
	ck_assert_str_eq(cfg->command, "/bin/app -x");
	ck_assert_int_eq(cfg->workers, 7);
	config_free(cfg);
	expect_error("[app]\r\ncommand = a\r\nworkers = x\r\n",
	    "t.ini:3: workers: \"x\" is not a number (1..4096)");
}
END_TEST

START_TEST(test_long_lines)
{
	char text[1024], err[CONFIG_ERR_MAX];
	struct config *cfg;
	int n;

	/* 199 characters is the most inih 55 can hold. */
	n = snprintf(text, sizeof(text), "[app]\ncommand = /bin/app ");
	memset(text + n, 'x', 199 - strlen("command = /bin/app "));
	n += 199 - (int)strlen("command = /bin/app ");
	n += snprintf(
	    text + n, sizeof(text) - (size_t)n, "\nworkers = 2\nbacklog = 1\n");
	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_ptr_null(cfg);
	/* The long line must not have shifted the line count. */
	ck_assert_str_eq(err, "t.ini:4: backlog: unknown key in [app]");

	n = snprintf(text, sizeof(text), "[app]\ncommand = /bin/app ");
	memset(text + n, 'x', 200 - strlen("command = /bin/app "));
	n += 200 - (int)strlen("command = /bin/app ");
	snprintf(text + n, sizeof(text) - (size_t)n, "\nworkers = 2\n");
	expect_error(text, "t.ini:2: line too long (max 199 characters)");

	/* Longer than two inih buffers, on the last line, no newline. */
	n = snprintf(text, sizeof(text), "[app]\ncommand = a\n; ");
	memset(text + n, 'y', 500);
	text[n + 500] = '\0';
	expect_error(text, "t.ini:3: line too long (max 199 characters)");
}
END_TEST

START_TEST(test_long_listen_names)
{
	char text[1024], want[512], a[65], b[65];
	struct config *cfg;

	/* Longer than inih's 50-byte section buffer, and differing late. */
	memset(a, 'n', 64);
	a[64] = '\0';
	memcpy(b, a, sizeof(b));
	b[63] = 'm';
	snprintf(text, sizeof(text),
	    "[app]\ncommand = app {fd:%s} {fd:%s}\n"
	    "[listen %s]\naddress = 81\n[listen %s]\naddress = 82\n",
	    a, b, a, b);
	cfg = load(text);
	ck_assert_uint_eq(cfg->nlisteners, 2);
	ck_assert_str_eq(cfg->listeners[0].name, a);
	ck_assert_str_eq(cfg->listeners[1].name, b);
	ck_assert_int_eq(cfg->listeners[1].addr.ss.ss_family, AF_INET);
	ck_assert_int_eq(config_listener_index(cfg, b), 1);
	config_free(cfg);

	snprintf(text, sizeof(text), "[app]\ncommand = a\n[listen %sx]\n", a);
	snprintf(want, sizeof(want),
	    "t.ini:3: [listen %sx]: \"%sx\" is not a valid name (letters, "
	    "digits, '_', '.' and '-', at most 64 characters)",
	    a, a);
	expect_error(text, want);
}
END_TEST

START_TEST(test_too_many_listeners)
{
	char text[8192], want[256];
	size_t off;
	int i;

	off = (size_t)snprintf(text, sizeof(text), "[app]\ncommand = a\n");
	for (i = 0; i <= CONFIG_LISTENERS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "[listen l%d]\naddress = %d\n", i, 10000 + i);
	/* The 65th header stands on line 3 + 2 * 64. */
	snprintf(want, sizeof(want),
	    "t.ini:%d: [listen l%d]: too many [listen] sections (at most %d)",
	    3 + 2 * CONFIG_LISTENERS_MAX, CONFIG_LISTENERS_MAX,
	    CONFIG_LISTENERS_MAX);
	expect_error(text, want);
}
END_TEST

START_TEST(test_intercept_listen)
{
	struct config *cfg;

	cfg = load("[app]\ncommand = a\nintercept_bind = yes\n"
	           "ready = listen\n");
	ck_assert_int_eq(cfg->intercept_bind, 1);
	ck_assert_int_eq(cfg->intercept_accept, 0);
	ck_assert_int_eq(cfg->ready, READY_LISTEN);
	config_free(cfg);
	/* intercept_accept stands on its own (LISTEN_FDS apps). */
	cfg = load("[app]\ncommand = a\nintercept_accept = yes\n");
	ck_assert_int_eq(cfg->intercept_accept, 1);
	ck_assert_int_eq(cfg->intercept_bind, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_ready_too_slow)
{
	expect_error("[app]\ncommand = a\nready = delay:2m\n",
	    "t.ini:3: ready: ready_timeout (60000 ms) is not longer than the "
	    "readiness delay (120000 ms) plus ready_delay (0 ms): every worker "
	    "would "
	    "time out");
	expect_error("[app]\ncommand = a\nready = delay:5s\n"
	             "ready_delay = 1s\nready_timeout = 6s\n",
	    "t.ini:5: ready_timeout: ready_timeout (6000 ms) is not longer "
	    "than "
	    "the readiness delay (5000 ms) plus ready_delay (1000 ms): every "
	    "worker would "
	    "time out");
	expect_error("[app]\ncommand = a\nready = notify\n"
	             "ready_delay = 90s\n",
	    "t.ini:4: ready_delay: ready_timeout (60000 ms) is not longer than "
	    "the readiness delay (0 ms) plus ready_delay (90000 ms): every "
	    "worker would "
	    "time out");
	config_free(load("[app]\ncommand = a\nready = delay:5s\n"
	                 "ready_delay = 1s\nready_timeout = 6001ms\n"));
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_config.XXXXXX", err[CONFIG_ERR_MAX];
	struct config *cfg;
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("[app]\ncommand = /bin/app\n    -x\n[listen a]\naddress = 81\n",
	    fp);
	fclose(fp);
	cfg = config_load(path, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_str_eq(cfg->command, "/bin/app -x");
	ck_assert_uint_eq(cfg->nlisteners, 1);
	config_free(cfg);

	/* A NUL byte can only come from a file. */
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fwrite("[app]\ncommand = a\nworkers = 1\0\n", 1, 31, fp);
	fclose(fp);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
	ck_assert_str_eq(err + strlen(path), ":3: line contains a NUL byte");

	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("[app]\ncommand = a\nworkers = many\n", fp);
	fclose(fp);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	ck_assert_str_eq(err + strlen(path),
	    ":3: workers: \"many\" is not a number (1..4096)");

	unlink(path);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	ck_assert_str_eq(
	    err + strlen(path), ": cannot open: No such file or directory");
}
END_TEST

/* Not a config at all: a FIFO, a device, a directory, a huge file. Each
 * must fail at once (the test's timeout bounds it), without a line. */
START_TEST(test_load_not_regular)
{
	char dir[] = "/tmp/check_config.XXXXXX", path[512], want[600];
	char err[CONFIG_ERR_MAX];
	const char *paths[3];
	struct config *cfg;
	FILE *fp;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	paths[0] = path;
	paths[1] = "/dev/zero";
	paths[2] = dir;
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_null(config_load(paths[i], err, sizeof(err)));
		snprintf(
		    want, sizeof(want), "%s: not a regular file", paths[i]);
		ck_assert_str_eq(err, want);
	}
	unlink(path);

	/* One byte over the cap; the cap itself is fine (all comments). */
	snprintf(path, sizeof(path), "%s/big.ini", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("[app]\ncommand = a\n", fp);
	for (i = strlen("[app]\ncommand = a\n"); i < CONFIG_FILE_MAX; i++)
		fputc(i % 100 == 99 ? '\n' : ';', fp);
	fclose(fp);
	cfg = config_load(path, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	config_free(cfg);
	fp = fopen(path, "a");
	fputc('\n', fp);
	fclose(fp);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: too large (more than %d bytes)", path,
	    CONFIG_FILE_MAX);
	ck_assert_str_eq(err, want);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Every error path, with its exact message. */
static const struct {
	const char *text;
	const char *err;
} errors[] = {
    /* syntax and sections */
    {"", "t.ini: [app]: missing section"},
    {"[baton]\npidfile = /run/x.pid\n", "t.ini: [app]: missing section"},
    {"[app]\njunk\n",
        "t.ini:2: \"junk\": expected \"key = value\" or a [section] header"},
    {"[app]\njunk ; x = y\n",
        "t.ini:2: \"junk ; x = y\": expected \"key = value\" or a [section] "
        "header"},
    {"[app]\n= x\n", "t.ini:2: missing key name before \"=\""},
    {"[app\ncommand = a\n",
        "t.ini:1: [app: missing \"]\" at the end of the section header"},
    {"[app] x\n", "t.ini:1: [app]: unexpected text after \"]\""},
    {"[foo]\n", "t.ini:1: [foo]: unknown section"},
    {"[app]\ncommand = a\n[ Listen http ]\n",
        "t.ini:3: [Listen http]: unknown section"},
    {"[app x]\n", "t.ini:1: [app x]: unknown section"},
    {"[listen]\n", "t.ini:1: [listen]: missing name (use [listen NAME])"},
    {"[listen a:b]\n",
        "t.ini:1: [listen a:b]: \"a:b\" is not a valid name (letters, "
        "digits, '_', '.' and '-', at most 64 characters)"},
    {"[listen a b]\n",
        "t.ini:1: [listen a b]: \"a b\" is not a valid name (letters, "
        "digits, '_', '.' and '-', at most 64 characters)"},
    {"[app]\ncommand = a\n[app]\n",
        "t.ini:3: [app]: duplicate section (first on line 1)"},
    {"[baton]\n[app]\ncommand = a\n[baton]\n",
        "t.ini:4: [baton]: duplicate section (first on line 1)"},
    {"[app]\ncommand = a\n[listen a]\naddress = 80\n[listen  a ]\n",
        "t.ini:5: [listen a]: duplicate section (first on line 3)"},
    {"workers = 2\n[app]\ncommand = a\n",
        "t.ini:1: workers: key outside any section (start with [baton], "
        "[app] or [listen NAME])"},
    {"[app]\ncommand = a\nfoo = 1\n", "t.ini:3: foo: unknown key in [app]"},
    {"[baton]\nworkers = 2\n", "t.ini:2: workers: unknown key in [baton]"},
    {"[app]\ncommand = a\n[listen http]\npidfile = /x\n",
        "t.ini:4: pidfile: unknown key in [listen http]"},
    {"[app]\ncommand = a\nenv = x\n", "t.ini:3: env: unknown key in [app]"},
    {"[app]\ncommand = a\nworkers = 2\n\nworkers = 3\n",
        "t.ini:5: workers: duplicate key (first set on line 3)"},
    {"[app]\ncommand = a\ncommand = b\n",
        "t.ini:3: command: duplicate key (first set on line 2)"},
    {"[app]\ncommand = a\n[listen a]\naddress = 80\naddress = 81\n",
        "t.ini:5: address: duplicate key (first set on line 4)"},
    {"[app]\ncommand = a\nworkers = 2\n  3\n",
        "t.ini:4: workers: continuation lines are only allowed for command"},
    {"[app]\ncommand = a\nenv.X = 1\n\t2\n",
        "t.ini:4: env.X: continuation lines are only allowed for command"},
    /* [baton] */
    {"[baton]\npidfile = run/app.pid\n",
        "t.ini:2: pidfile: \"run/app.pid\" is not an absolute path"},
    {"[baton]\ncontrol = app.sock\n",
        "t.ini:2: control: \"app.sock\" is not an absolute path"},
    {"[baton]\nlog = stdout\n",
        "t.ini:2: log: \"stdout\" is not stderr, syslog or an absolute path"},
    {"[baton]\nfdstore = maybe\n",
        "t.ini:2: fdstore: \"maybe\" is not a boolean (yes/no, true/false, "
        "on/off, 1/0)"},
    {"[baton]\nupgrade_retire_old = 2\n",
        "t.ini:2: upgrade_retire_old: \"2\" is not a boolean (yes/no, "
        "true/false, on/off, 1/0)"},
    /* [app] */
    {"[baton]\n[app]\nworkers = 2\n", "t.ini:2: command: missing"},
    {"[app]\ncommand =\n", "t.ini:2: command: empty command"},
    {"[app]\ncommand = a 'b\n", "t.ini:2: command: unterminated single quote"},
    {"[app]\ncommand = a\n  \"b\n",
        "t.ini:2: command: unterminated double quote"},
    {"[app]\ncommand = a b\\\n", "t.ini:2: command: trailing backslash"},
    {"[app]\ncommand = app {fd:web}\n[listen http]\naddress = 80\n",
        "t.ini:2: command: {fd:web}: no [listen web] section"},
    {"[app]\ncommand = app --a={addr:web}/x\n",
        "t.ini:2: command: {addr:web}: no [listen web] section"},
    {"[app]\ncommand = app --fd={fd:http\n[listen http]\naddress = 80\n",
        "t.ini:2: command: \"{fd:http\": unterminated placeholder (use "
        "{fd:NAME} or {addr:NAME})"},
    {"[app]\ncommand = app {fd:}\n",
        "t.ini:2: command: {fd:}: \"\" is not a listener name (letters, "
        "digits, '_', '.' and '-', at most 64 characters)"},
    {"[app]\ncommand = a\nworkers = abc\n",
        "t.ini:3: workers: \"abc\" is not a number (1..4096)"},
    {"[app]\ncommand = a\nworkers =\n",
        "t.ini:3: workers: \"\" is not a number (1..4096)"},
    {"[app]\ncommand = a\nworkers = -1\n",
        "t.ini:3: workers: \"-1\" is not a number (1..4096)"},
    {"[app]\ncommand = a\nworkers = 0\n",
        "t.ini:3: workers: 0 is out of range (1..4096)"},
    {"[app]\ncommand = a\nworkers = 4097\n",
        "t.ini:3: workers: 4097 is out of range (1..4096)"},
    {"[app]\ncommand = a\nworkers = 99999999999999999999999\n",
        "t.ini:3: workers: 99999999999999999999999 is out of range (1..4096)"},
    {"[app]\ncommand = a\ndirectory = srv\n",
        "t.ini:3: directory: \"srv\" is not an absolute path"},
    {"[app]\ncommand = a\nready = sometimes\n",
        "t.ini:3: ready: \"sometimes\" is not a readiness check (use notify, "
        "listen, delay:DURATION, tcp:HOST:PORT, http://HOST:PORT/PATH or "
        "none)"},
    {"[app]\ncommand = a\nready = NOTIFY\n",
        "t.ini:3: ready: \"NOTIFY\" is not a readiness check (use notify, "
        "listen, delay:DURATION, tcp:HOST:PORT, http://HOST:PORT/PATH or "
        "none)"},
    {"[app]\ncommand = a\nready = https://127.0.0.1:443/\n",
        "t.ini:3: ready: \"https://127.0.0.1:443/\" is not a readiness check "
        "(use notify, listen, delay:DURATION, tcp:HOST:PORT, "
        "http://HOST:PORT/PATH or none)"},
    {"[app]\ncommand = a\nready = delay:5x\n",
        "t.ini:3: ready: \"5x\" is not a duration (use 30, 30s, 500ms, 2m)"},
    {"[app]\ncommand = a\nready = tcp:unix:/run/a.sock\n",
        "t.ini:3: ready: \"unix:/run/a.sock\": a unix socket cannot be "
        "probed (use HOST:PORT)"},
    {"[app]\ncommand = a\nready = tcp:example.com:80\n",
        "t.ini:3: ready: \"example.com\": hostnames other than localhost are "
        "not supported (use a numeric address)"},
    {"[app]\ncommand = a\nready = tcp:\n",
        "t.ini:3: ready: empty address (use HOST:PORT, [HOST]:PORT or "
        "unix:/PATH)"},
    {"[app]\ncommand = a\nready = http://127.0.0.1/health\n",
        "t.ini:3: ready: \"127.0.0.1\": missing port (use HOST:PORT)"},
    {"[app]\ncommand = a\nready = http://127.0.0.1:8080/a b\n",
        "t.ini:3: ready: \"/a b\": the path must not contain spaces or "
        "control characters"},
    {"[app]\ncommand = a\nready = listen\n",
        "t.ini:3: ready: listen needs intercept_bind = yes"},
    {"[app]\ncommand = a\nintercept_bind = sure\n",
        "t.ini:3: intercept_bind: \"sure\" is not a boolean (yes/no, "
        "true/false, on/off, 1/0)"},
    {"[app]\ncommand = a\nintercept_accept = maybe\n",
        "t.ini:3: intercept_accept: \"maybe\" is not a boolean (yes/no, "
        "true/false, on/off, 1/0)"},
    {"[app]\ncommand = a\nready_timeout = 0\n",
        "t.ini:3: ready_timeout: \"0\" is too short (must be more than 0)"},
    {"[app]\ncommand = a\nready_timeout = 0ms\n",
        "t.ini:3: ready_timeout: \"0ms\" is too short (must be more than 0)"},
    {"[app]\ncommand = a\nready_timeout = soon\n",
        "t.ini:3: ready_timeout: \"soon\" is not a duration (use 30, 30s, "
        "500ms, 2m)"},
    {"[app]\ncommand = a\nready_delay = -1\n",
        "t.ini:3: ready_delay: \"-1\" is not a duration (use 30, 30s, 500ms, "
        "2m)"},
    {"[app]\ncommand = a\nstop_signal = FOO\n",
        "t.ini:3: stop_signal: \"FOO\" is not a signal (use a name like TERM "
        "or QUIT, or a number 1..64)"},
    {"[app]\ncommand = a\nstop_signal = 65\n",
        "t.ini:3: stop_signal: \"65\" is not a signal (use a name like TERM "
        "or QUIT, or a number 1..64)"},
    {"[app]\ncommand = a\nstop_timeout = 25h\n",
        "t.ini:3: stop_timeout: \"25h\" is too long (max 24h)"},
    {"[app]\ncommand = a\nenv.1X = y\n",
        "t.ini:3: env.1X: \"1X\" is not a variable name (letters, digits and "
        "'_', not starting with a digit)"},
    {"[app]\ncommand = a\nenv.A-B = y\n",
        "t.ini:3: env.A-B: \"A-B\" is not a variable name (letters, digits "
        "and '_', not starting with a digit)"},
    {"[app]\ncommand = a\nenv. = y\n",
        "t.ini:3: env.: \"\" is not a variable name (letters, digits and "
        "'_', not starting with a digit)"},
    {"[app]\ncommand = a\nenv.A = 1\nenv.B = 2\nenv.A = 3\n",
        "t.ini:5: env.A: duplicate key (first set on line 3)"},
    {"[app]\ncommand = a\nenv.LISTEN_FDS = 3\n",
        "t.ini:3: env.LISTEN_FDS: baton sets this variable itself "
        "(LISTEN_*, NOTIFY_SOCKET, SERVER_STARTER_PORT, EINHORN_*, BATON_*)"},
    {"[app]\ncommand = a\nenv.NOTIFY_SOCKET = /x\n",
        "t.ini:3: env.NOTIFY_SOCKET: baton sets this variable itself "
        "(LISTEN_*, NOTIFY_SOCKET, SERVER_STARTER_PORT, EINHORN_*, BATON_*)"},
    {"[baton]\nuser = root\n[app]\nworkers = 2\nenv.A = 1\n",
        "t.ini:3: command: missing"},
    /* [listen NAME] */
    {"[app]\ncommand = a\n[listen http]\nbacklog = 5\n",
        "t.ini:3: address: missing"},
    {"[app]\ncommand = a\n[listen http]\naddress = example.com:80\n",
        "t.ini:4: address: \"example.com\": hostnames other than localhost "
        "are not supported (use a numeric address)"},
    {"[app]\ncommand = a\n[listen http]\naddress = [::1]\n",
        "t.ini:4: address: \"[::1]\": missing port (use [HOST]:PORT)"},
    {"[app]\ncommand = a\n[listen http]\naddress = unix:app.sock\n",
        "t.ini:4: address: unix socket path must be absolute (like "
        "unix:/run/app.sock)"},
    {"[app]\ncommand = a\n[listen http]\naddress = 80\nbacklog = 0\n",
        "t.ini:5: backlog: 0 is out of range (1..65535)"},
    {"[app]\ncommand = a\n[listen http]\naddress = 80\nbacklog = 65536\n",
        "t.ini:5: backlog: 65536 is out of range (1..65535)"},
    {"[app]\ncommand = a\n[listen http]\naddress = 80\nbacklog = lots\n",
        "t.ini:5: backlog: \"lots\" is not a number (1..65535)"},
    {"[app]\ncommand = a\n[listen http]\naddress = 80\nv6only = no\n",
        "t.ini:5: v6only: only valid for an IPv6 address (address is "
        "0.0.0.0:80)"},
    {"[app]\ncommand = a\n[listen http]\nv6only = yes\n"
     "address = unix:/run/a.sock\n",
        "t.ini:4: v6only: only valid for an IPv6 address (address is "
        "unix:/run/a.sock)"},
    {"[app]\ncommand = a\n[listen http]\naddress = [::]:80\nv6only = 2\n",
        "t.ini:5: v6only: \"2\" is not a boolean (yes/no, true/false, on/off, "
        "1/0)"},
    {"[app]\ncommand = a\n[listen http]\naddress = [::]:80\nmode = 0660\n",
        "t.ini:5: mode: only valid for a unix: address (address is "
        "[::]:80)"},
    {"[app]\ncommand = a\n[listen s]\naddress = unix:/a\nmode = 0999\n",
        "t.ini:5: mode: \"0999\" is not an octal mode (like 0660)"},
    {"[app]\ncommand = a\n[listen s]\naddress = unix:/a\nmode = 10000\n",
        "t.ini:5: mode: \"10000\" is not an octal mode (like 0660)"},
    {"[app]\ncommand = a\n[listen s]\naddress = unix:/a\nmode =\n",
        "t.ini:5: mode: \"\" is not an octal mode (like 0660)"},
    {"[app]\ncommand = a\n[listen s]\naddress = unix:/a\nmode = rw\n",
        "t.ini:5: mode: \"rw\" is not an octal mode (like 0660)"},
    {"[app]\ncommand = a\n[listen a]\naddress = 127.0.0.1:80\n"
     "[listen b]\naddress = 8080\n[listen c]\naddress = localhost:80\n",
        "t.ini:8: address: 127.0.0.1:80 is already used by [listen a] "
        "(line 4)"},
    {"[app]\ncommand = a\n[listen a]\naddress = unix:/run/a.sock\n"
     "[listen b]\naddress = unix:/run/a.sock\n",
        "t.ini:6: address: unix:/run/a.sock is already used by [listen a] "
        "(line 4)"},
    /* The first error in the file wins, whatever check finds it. */
    {"[app]\ncommand = a\nworkers = x\nworkers = y\n",
        "t.ini:3: workers: \"x\" is not a number (1..4096)"},
    {"[app]\ncommand = a\nworkers = x\nfoo\n",
        "t.ini:3: workers: \"x\" is not a number (1..4096)"},
    {"[app]\nintercept_bind = yes\ncommand = a {fd:x}\n",
        "t.ini:3: command: {fd:x}: no [listen x] section"},
    {"[listen a]\nmode = 0600\naddress = 80\n[app]\ncommand = {fd:b}\n",
        "t.ini:2: mode: only valid for a unix: address (address is "
        "0.0.0.0:80)"},
};

START_TEST(test_errors)
{
	expect_error(errors[_i].text, errors[_i].err);
}
END_TEST

START_TEST(test_signal_names)
{
	/* The name callers outside config use; parse.c has the table. */
	ck_assert_str_eq(config_signal_name(SIGTERM), "TERM");
	ck_assert_str_eq(config_signal_name(SIGWINCH), "WINCH");
	ck_assert_str_eq(config_signal_name(40), "?");
}
END_TEST

#define MAX_WORDS 6

static const struct {
	const char *in;
	const char *words[MAX_WORDS]; /* NULL-terminated */
	const char *err;              /* or the expected reason */
} splits[] = {
    {"a b  c", {"a", "b", "c", NULL}, NULL},
    {"  /bin/app\t-x  ", {"/bin/app", "-x", NULL}, NULL},
    {"'a b' c", {"a b", "c", NULL}, NULL},
    {"\"a b\" c", {"a b", "c", NULL}, NULL},
    {"a\\ b", {"a b", NULL}, NULL},
    {"'it''s'", {"its", NULL}, NULL},
    {"x\"y z\"w", {"xy zw", NULL}, NULL},
    {"\"say \\\"hi\\\"\"", {"say \"hi\"", NULL}, NULL},
    {"\"a\\\\b\"", {"a\\b", NULL}, NULL},
    {"\"a\\nb\"", {"a\\nb", NULL}, NULL},
    {"'a\\b' 'c\"d'", {"a\\b", "c\"d", NULL}, NULL},
    {"\\'", {"'", NULL}, NULL},
    {"\\\\", {"\\", NULL}, NULL},
    {"\\\"a", {"\"a", NULL}, NULL},
    {"''", {"", NULL}, NULL},
    {"a '' \"\" b", {"a", "", "", "b", NULL}, NULL},
    {"$HOME ~ * `x` ;", {"$HOME", "~", "*", "`x`", ";", NULL}, NULL},
    {"--listen=fd://{fd:http}", {"--listen=fd://{fd:http}", NULL}, NULL},
    {"", {NULL}, "empty command"},
    {" \t ", {NULL}, "empty command"},
    {"'abc", {NULL}, "unterminated single quote"},
    {"a 'b c", {NULL}, "unterminated single quote"},
    {"\"abc", {NULL}, "unterminated double quote"},
    {"\"abc\\\"", {NULL}, "unterminated double quote"},
    {"abc\\", {NULL}, "trailing backslash"},
};

START_TEST(test_split)
{
	char err[256] = "";
	char **argv;
	int argc = -1, n;

	argv = config_command_split(splits[_i].in, &argc, err, sizeof(err));
	if (splits[_i].err != NULL) {
		ck_assert_ptr_null(argv);
		ck_assert_str_eq(err, splits[_i].err);
		return;
	}
	ck_assert_msg(argv != NULL, "%s: %s", splits[_i].in, err);
	for (n = 0; splits[_i].words[n] != NULL; n++) {
		ck_assert_ptr_nonnull(argv[n]);
		ck_assert_str_eq(argv[n], splits[_i].words[n]);
	}
	ck_assert_ptr_null(argv[n]);
	ck_assert_int_eq(argc, n);
	config_command_free(argv);
}
END_TEST

START_TEST(test_placeholders)
{
	struct config_placeholder ph;
	char err[256] = "";
	const char *s;

	s = "x{fd:http}y";
	ck_assert_int_eq(
	    config_command_placeholder(s, &ph, err, sizeof(err)), 1);
	ck_assert_int_eq(ph.kind, CONFIG_PLACEHOLDER_FD);
	ck_assert_ptr_eq(ph.start, s + 1);
	ck_assert_uint_eq(ph.len, 9);
	ck_assert_ptr_eq(ph.name, s + 5);
	ck_assert_uint_eq(ph.namelen, 4);

	s = "{{addr:a.b-c_1}}{fd:z}";
	ck_assert_int_eq(
	    config_command_placeholder(s, &ph, err, sizeof(err)), 1);
	ck_assert_int_eq(ph.kind, CONFIG_PLACEHOLDER_ADDR);
	ck_assert_ptr_eq(ph.start, s + 1);
	ck_assert_uint_eq(ph.len, 14);
	ck_assert_uint_eq(ph.namelen, 7);
	s = ph.start + ph.len;
	ck_assert_int_eq(
	    config_command_placeholder(s, &ph, err, sizeof(err)), 1);
	ck_assert_int_eq(ph.kind, CONFIG_PLACEHOLDER_FD);
	ck_assert_uint_eq(ph.namelen, 1);
	ck_assert_int_eq(ph.name[0], 'z');
	s = ph.start + ph.len;
	ck_assert_int_eq(
	    config_command_placeholder(s, &ph, err, sizeof(err)), 0);

	/* Braces that are no placeholder belong to the app. */
	ck_assert_int_eq(config_command_placeholder(
	                     "{\"a\": {}} {FD:x} {fdx}", &ph, err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    config_command_placeholder("", &ph, err, sizeof(err)), 0);

	ck_assert_int_eq(
	    config_command_placeholder("a{addr:x", &ph, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"{addr:x\": unterminated placeholder (use "
	                      "{fd:NAME} or {addr:NAME})");
	ck_assert_int_eq(
	    config_command_placeholder("{fd:{fd:a}}", &ph, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "{fd:{fd:a}: \"{fd:a\" is not a listener name "
	                      "(letters, digits, '_', '.' and '-', at most 64 "
	                      "characters)");
}
END_TEST

/* ---- the key table against baton.ini(5) ---- */

#define MAN_ENTRIES_MAX 64

/* One ".It Ic KEY No = ..." item of a THE [...] SECTION, macros dropped. */
struct man_entry {
	enum config_section section;
	char name[64];
	char text[8192];
};

/*
 * The source tree's man/baton.ini.5: $BATON_MAN_PAGE, else found from this
 * file's path as the compiler saw it (make compiles from the top of the
 * tree and runs the tests there). Missing is a failure, never a skip.
 */
static FILE *
man_open(char *path, size_t len)
{
	const char *env = getenv("BATON_MAN_PAGE");
	const char *me = __FILE__, *tail = "tests/unit/check_config.c";
	size_t n = strlen(me), t = strlen(tail);

	if (env != NULL && env[0] != '\0')
		snprintf(path, len, "%s", env);
	else if (n >= t && strcmp(me + n - t, tail) == 0)
		snprintf(path, len, "%.*sman/baton.ini.5", (int)(n - t), me);
	else
		snprintf(path, len, "man/baton.ini.5");
	return fopen(path, "r");
}

/* An mdoc macro called on a line: Cm, Ar, No, Ns, Pq, Ql, ... */
static int
man_is_macro(const char *t)
{
	size_t n = strlen(t);

	return (n == 2 || n == 3) && isupper((unsigned char)t[0]) &&
	       islower((unsigned char)t[1]) &&
	       (n == 2 || islower((unsigned char)t[2]));
}

/* Append the words of one man line to text, without macro names. */
static void
man_append(char *text, size_t len, const char *line)
{
	char buf[1024], *tok, *save, *p;
	size_t used = strlen(text);
	int macro = line[0] == '.';

	snprintf(buf, sizeof(buf), "%s", line + macro);
	/* "\&" is mdoc's zero-width escape: "env.\&" is "env." */
	while ((p = strstr(buf, "\\&")) != NULL)
		memmove(p, p + 2, strlen(p + 2) + 1);
	for (tok = strtok_r(buf, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (macro && man_is_macro(tok))
			continue;
		used += (size_t)snprintf(
		    text + used, used < len ? len - used : 0, "%s ", tok);
		if (used >= len)
			return;
	}
}

static size_t
man_entries(FILE *fp, struct man_entry *e, size_t max)
{
	enum config_section sec = CONFIG_SECTION_NONE;
	struct man_entry *cur = NULL;
	char line[1024], *p;
	size_t n = 0;

	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, ".Sh ", 4) == 0) {
			cur = NULL;
			sec = strstr(line, "THE [baton]") ? CONFIG_SECTION_BATON
			      : strstr(line, "THE [app]") ? CONFIG_SECTION_APP
			      : strstr(line, "THE [listen")
			          ? CONFIG_SECTION_LISTEN
			          : CONFIG_SECTION_NONE;
			continue;
		}
		if (sec != CONFIG_SECTION_NONE &&
		    strncmp(line, ".It Ic ", 7) == 0 &&
		    strstr(line, " No = ") != NULL) {
			ck_assert_uint_lt(n, max);
			cur = &e[n++];
			memset(cur, 0, sizeof(*cur));
			cur->section = sec;
			man_append(cur->name, sizeof(cur->name), line + 7);
			/* The first word is the key. */
			if ((p = strchr(cur->name, ' ')) != NULL)
				*p = '\0';
			continue;
		}
		if (cur != NULL)
			man_append(cur->text, sizeof(cur->text), line);
	}
	return n;
}

/* The word after "Default:", trailing punctuation dropped; NULL if none. */
static const char *
man_default(const char *text, char *word, size_t len)
{
	const char *p = strstr(text, "Default: ");
	size_t n;

	if (p == NULL)
		return NULL;
	p += strlen("Default: ");
	n = strcspn(p, " ");
	while (n > 0 && strchr(".,;:)", p[n - 1]) != NULL)
		n--;
	snprintf(word, len, "%.*s", (int)n, p);
	return word;
}

START_TEST(test_keys_documented)
{
	static struct man_entry e[MAN_ENTRIES_MAX];
	const struct config_key *k = NULL;
	char path[4096], word[64], range[64];
	const char *def;
	size_t n, i;
	FILE *fp;

	fp = man_open(path, sizeof(path));
	ck_assert_msg(fp != NULL, "cannot open %s (set BATON_MAN_PAGE)", path);
	n = man_entries(fp, e, MAN_ENTRIES_MAX);
	fclose(fp);
	ck_assert_msg(n > 0, "%s: no key entries found", path);

	while ((k = config_keys_next(k)) != NULL) {
		for (i = 0; i < n; i++) {
			if (e[i].section == k->section &&
			    strcmp(e[i].name, k->name) == 0)
				break;
		}
		ck_assert_msg(i < n, "%s: key %s of [%s] is not documented",
		    path, k->name, config_keys_section_name(k->section));
		def = man_default(e[i].text, word, sizeof(word));
		if (k->def != NULL)
			ck_assert_msg(def != NULL && strcmp(def, k->def) == 0,
			    "%s: %s: the default is %s, the page says %s", path,
			    k->name, k->def, def != NULL ? def : "nothing");
		else
			ck_assert_msg(def == NULL || strcmp(def, "none") == 0 ||
			                  strcmp(def, "the") == 0,
			    "%s: %s has no default, the page says %s", path,
			    k->name, def);
		if (k->flags & CONFIG_KEY_REQUIRED)
			ck_assert_msg(strstr(e[i].text, "Required") != NULL,
			    "%s: %s is required, the page does not say so",
			    path, k->name);
		if (k->type == CONFIG_KEY_INT) {
			snprintf(range, sizeof(range), " %lld to %lld", k->min,
			    k->max);
			ck_assert_msg(strstr(e[i].text, range) != NULL,
			    "%s: %s: the range is%s, the page does not say so",
			    path, k->name, range);
		}
	}
	/* And nothing documented that the table does not know. */
	for (i = 0; i < n; i++) {
		k = config_keys_find(e[i].section, e[i].name);
		ck_assert_msg(k != NULL && strcmp(k->name, e[i].name) == 0,
		    "%s: %s is documented in [%s] but is no key", path,
		    e[i].name, config_keys_section_name(e[i].section));
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_too_many_listeners);
	tcase_add_test(tc, test_ready_too_slow);
	tcase_add_test(tc, test_intercept_listen);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_user_group);
	tcase_add_test(tc, test_credentials);
	tcase_add_test(tc, test_ready_kinds);
	tcase_add_test(tc, test_continuation);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_crlf_bom);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_long_listen_names);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_not_regular);
	tcase_add_loop_test(
	    tc, test_errors, 0, sizeof(errors) / sizeof(errors[0]));
	tcase_add_test(tc, test_signal_names);
	tcase_add_loop_test(
	    tc, test_split, 0, sizeof(splits) / sizeof(splits[0]));
	tcase_add_test(tc, test_placeholders);
	tcase_add_test(tc, test_keys_documented);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
