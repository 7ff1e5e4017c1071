/* check_control.c: unit tests for the control protocol's parsing and metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "control.h"

static int
parse(const char *line, struct control_request *req, char *err, size_t len)
{
	return control_request_parse(line, strlen(line), req, err, len);
}

START_TEST(test_parse_commands)
{
	struct control_request r;
	char err[256];

	ck_assert_int_eq(
	    parse("{\"v\":1,\"cmd\":\"status\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.cmd, CONTROL_STATUS);
	ck_assert_int_eq(
	    parse("{\"v\":1,\"cmd\":\"reload\"}", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.cmd, CONTROL_RELOAD);
	ck_assert_int_eq(r.wait, 1);
	ck_assert_int_eq(parse("{\"cmd\":\"reload\",\"wait\":false,\"v\":1}",
	                     &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.wait, 0);
	ck_assert_int_eq(parse("{\"v\":1,\"cmd\":\"scale\",\"workers\":4}", &r,
	                     err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.relative, 0);
	ck_assert_int_eq(r.n, 4);
	ck_assert_int_eq(parse("{\"v\":1,\"cmd\":\"scale\",\"by\":-2}", &r, err,
	                     sizeof(err)),
	    0);
	ck_assert_int_eq(r.relative, 1);
	ck_assert_int_eq(r.n, -2);
	ck_assert_int_eq(parse("{\"v\":1,\"cmd\":\"stop\",\"fast\":true}", &r,
	                     err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.fast, 1);
	ck_assert_int_eq(
	    parse("  {\"v\":1,\"cmd\":\"metrics\"}  ", &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.cmd, CONTROL_METRICS);
}
END_TEST

/* Each bad request is refused with a reason, whatever it holds. */
START_TEST(test_parse_rejects)
{
	static const char *bad[] = {
	    "",
	    "garbage",
	    "{",
	    "[1,2]",
	    "\"status\"",
	    "{\"cmd\":\"status\"}",
	    "{\"v\":2,\"cmd\":\"status\"}",
	    "{\"v\":\"1\",\"cmd\":\"status\"}",
	    "{\"v\":1}",
	    "{\"v\":1,\"cmd\":7}",
	    "{\"v\":1,\"cmd\":\"upgrade\"}",
	    "{\"v\":1,\"cmd\":\"status\",\"extra\":1}",
	    "{\"v\":1,\"cmd\":\"status\",\"cmd\":\"stop\"}",
	    "{\"v\":1,\"cmd\":\"reload\",\"wait\":1}",
	    "{\"v\":1,\"cmd\":\"scale\"}",
	    "{\"v\":1,\"cmd\":\"scale\",\"workers\":0}",
	    "{\"v\":1,\"cmd\":\"scale\",\"workers\":5000}",
	    "{\"v\":1,\"cmd\":\"scale\",\"workers\":2,\"by\":1}",
	    "{\"v\":1,\"cmd\":\"scale\",\"by\":1.5}",
	    "{\"v\":1,\"cmd\":\"stop\",\"fast\":\"yes\"}",
	    "{\"v\":1,\"cmd\":\"status\"} {\"v\":1,\"cmd\":\"stop\"}",
	};
	struct control_request r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		ck_assert_msg(parse(bad[i], &r, err, sizeof(err)) == -1,
		    "accepted: %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for: %s", bad[i]);
	}
}
END_TEST

START_TEST(test_parse_binary)
{
	static const char bin[] = "{\"v\":1,\"cmd\":\"status\"}\0\xff\xfe";
	static const char utf[] = "{\"v\":1,\"cmd\":\"st\xff\xfetus\"}";
	struct control_request r;
	char err[256];

	ck_assert_int_eq(
	    control_request_parse(bin, sizeof(bin) - 1, &r, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(parse(utf, &r, err, sizeof(err)), -1);
}
END_TEST

/* What the client half sends is what the server half reads. */
START_TEST(test_format_roundtrip)
{
	struct control_request in, out;
	char err[256], *line;
	int cmd;

	for (cmd = CONTROL_STATUS; cmd <= CONTROL_METRICS; cmd++) {
		memset(&in, 0, sizeof(in));
		in.cmd = (enum control_cmd)cmd;
		in.wait = cmd == CONTROL_RELOAD;
		in.fast = cmd == CONTROL_STOP;
		in.relative = cmd == CONTROL_SCALE;
		in.n = cmd == CONTROL_SCALE ? -3 : 0;
		line = control_request_format(&in);
		ck_assert_ptr_nonnull(line);
		ck_assert(line[strlen(line) - 1] == '\n');
		/* One line: its only newline ends it. */
		ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
		ck_assert_int_eq(control_request_parse(line, strlen(line) - 1,
		                     &out, err, sizeof(err)),
		    0);
		ck_assert_int_eq(out.cmd, in.cmd);
		ck_assert_int_eq(out.wait, in.wait);
		ck_assert_int_eq(out.fast, in.fast);
		ck_assert_int_eq(out.relative, in.relative);
		ck_assert_int_eq(out.n, in.n);
		free(line);
	}
}
END_TEST

START_TEST(test_scale_words)
{
	struct control_request r;
	char err[256];

	ck_assert_int_eq(control_scale_parse("4", &r, err, sizeof(err)), 0);
	ck_assert(r.relative == 0 && r.n == 4);
	ck_assert_int_eq(control_scale_parse("+2", &r, err, sizeof(err)), 0);
	ck_assert(r.relative == 1 && r.n == 2);
	ck_assert_int_eq(control_scale_parse("-1", &r, err, sizeof(err)), 0);
	ck_assert(r.relative == 1 && r.n == -1);
	ck_assert_int_eq(control_scale_parse("0", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("+", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("--1", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("+-1", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse(" 3", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("3x", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse("4097", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(control_scale_parse(
	                     "99999999999999999999999", &r, err, sizeof(err)),
	    -1);
}
END_TEST

START_TEST(test_metrics)
{
	json_t *st;
	char *text;

	st = json_loads("{\"master\":{\"pid\":42,\"version\":\"0.1.0\","
	                "\"uptime_s\":3.5,\"state\":\"serving\"},"
	                "\"generations\":[{\"id\":3,\"state\":\"active\","
	                "\"workers_ready\":2,\"workers_running\":2,"
	                "\"workers\":[{\"index\":0,\"restarts\":1}]}],"
	                "\"listeners\":[{\"name\":\"http\",\"backlog\":511,"
	                "\"queue\":4}],"
	                "\"counters\":{\"reloads_ok\":5,\"reloads_rejected\":1,"
	                "\"reloads_rolled_back\":2,\"worker_crashes\":3,"
	                "\"respawns\":3,\"upgrades\":0},"
	                "\"last_reload\":{\"ok\":false,\"started\":100.0,"
	                "\"duration_s\":1.5}}",
	    0, NULL);
	ck_assert_ptr_nonnull(st);
	text = control_metrics(st);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "baton_info{version=\"0.1.0\","
	                                   "pid=\"42\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "baton_generation_workers{generation=\"3\",state=\"active\","
	    "ready=\"yes\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "baton_listener_queue{listener=\"http\"} 4\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "baton_reloads_total{outcome=\"rolled_back\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "baton_last_reload_success 0\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "baton_worker_restarts{generation=\"3\","
	                 "worker=\"0\"} 1\n"));
	free(text);
	json_decref(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("protocol");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_commands);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_parse_binary);
	tcase_add_test(tc, test_format_roundtrip);
	tcase_add_test(tc, test_scale_words);
	tcase_add_test(tc, test_metrics);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
