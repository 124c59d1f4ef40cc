/* Outbound HTTP worker: webhooks and the LLM explainer (see outbound.h). */
#include "outbound.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/curl.h"
#include "../lib/secret.h"

#define QUEUE_MAX 16
#define RESULTS_MAX 16
#define BACKOFF_MIN_S 30
#define BACKOFF_MAX_S 900

static const char system_prompt[] =
	"You are the explainer of KernelSight, a Linux telemetry agent. You get the evidence, projections and "
	"the decision of one remediation cycle as JSON. In at most four sentences, say what is happening on "
	"the host, why the decision was taken, and what an operator should check. Do not invent numbers that "
	"are not in the evidence. Your answer is advisory: nothing you say is executed.";

/* Loads libcurl once (lib/curl.h); 0, or -ENOENT and why in err. */
static int load_curl(char *err, size_t errlen)
{
	char why[256];
	int rc = curl_api__load(why, sizeof(why));

	if (rc)
		snprintf(err, errlen, "the webhook and the LLM explainer need libcurl: %s", why);
	return rc;
}

enum job_kind { JOB_NOTIFY, JOB_EXPLAIN };

struct job {
	enum job_kind kind;
	uint64_t action_id;
	char *body;
};

struct outbound {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;
	bool stop;
	struct job queue[QUEUE_MAX];
	size_t nqueue;
	struct outbound_result results[RESULTS_MAX];
	size_t nresults;
	struct outbound_stats stats;
	/* config (owned copies) */
	char *webhook, *url, *model, *key;
	long timeout_ms;
	time_t backoff_until;
	int backoff_s;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	if (b->len + size * n > (1 << 20))
		return 0;               /* an answer larger than 1 MiB is refused */
	buf_add(b, data, size * n);
	return size * n;
}

/* POSTs body as JSON; *ret_body gets the response.  Returns the HTTP status
 * or a negative errno, with why filled on failure. */
static long post(struct outbound *o, const char *url, const char *body, bool auth, struct buf *ret_body,
		 char *why, size_t whylen)
{
	CURL *curl = curl_api.easy_init();
	struct curl_slist *headers = NULL;
	char authz[1024];
	long status = 0;
	CURLcode rc;

	if (!curl) {
		snprintf(why, whylen, "cannot start libcurl");
		return -ENOMEM;
	}
	headers = curl_api.slist_append(headers, "Content-Type: application/json");
	if (auth && o->key) {
		snprintf(authz, sizeof(authz), "Authorization: Bearer %s", o->key);
		headers = curl_api.slist_append(headers, authz);
	}
	curl_api.easy_setopt(curl, CURLOPT_URL, url);
	curl_api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_api.easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms < 5000 ? o->timeout_ms : 5000);
	curl_api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_api.easy_setopt(curl, CURLOPT_WRITEDATA, ret_body);
	curl_api.easy_setopt(curl, CURLOPT_USERAGENT, "ksight");
	rc = curl_api.easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	} else {
		/* libcurl's message names the host and the failure, never the headers. */
		snprintf(why, whylen, "%s", curl_api.easy_strerror(rc));
		status = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	memset(authz, 0, sizeof(authz));
	curl_api.slist_free_all(headers);
	curl_api.easy_cleanup(curl);
	return status;
}

/* Builds the chat request, sends it, extracts choices[0].message.content. */
static void explain(struct outbound *o, const struct job *j, struct outbound_result *r)
{
	json_t *req = json_pack("{s:s, s:f, s:i, s:[{s:s, s:s}, {s:s, s:s}]}", "model", o->model, "temperature", 0.2,
				"max_tokens", 400, "messages", "role", "system", "content", system_prompt, "role",
				"user", "content", j->body);
	struct buf answer = BUF_INIT;
	struct timespec t0, t1;
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	long status;

	r->action_id = j->action_id;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = body ? post(o, o->url, body, true, &answer, r->text, sizeof(r->text)) : -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (status == 200) {
		json_error_t jerr;
		json_t *resp = json_loadb(answer.data ? answer.data : "", answer.len, 0, &jerr);
		json_t *content = json_object_get(json_object_get(json_array_get(json_object_get(resp, "choices"), 0),
								  "message"), "content");

		if (json_is_string(content)) {
			snprintf(r->text, sizeof(r->text), "%s", json_string_value(content));
			r->status = 0;
		} else {
			snprintf(r->text, sizeof(r->text), "the explainer's answer has no choices[0].message.content");
			r->status = -EPROTO;
		}
		json_decref(resp);
	} else if (status > 0) {
		snprintf(r->text, sizeof(r->text), "the explainer answered HTTP %ld", status);
		r->status = -EPROTO;
	} else {
		r->status = (int)status;
	}
	buf_free(&answer);
	free(body);
	json_decref(req);
}

static void *worker(void *arg)
{
	struct outbound *o = arg;

	pthread_mutex_lock(&o->lock);
	while (!o->stop) {
		struct job j;

		if (!o->nqueue) {
			pthread_cond_wait(&o->work, &o->lock);
			continue;
		}
		j = o->queue[0];
		memmove(&o->queue[0], &o->queue[1], (o->nqueue - 1) * sizeof(o->queue[0]));
		o->nqueue--;
		pthread_mutex_unlock(&o->lock);

		if (j.kind == JOB_NOTIFY) {
			struct buf ignored = BUF_INIT;
			char why[256];
			long st = post(o, o->webhook, j.body, false, &ignored, why, sizeof(why));

			buf_free(&ignored);
			pthread_mutex_lock(&o->lock);
			if (st >= 200 && st < 300)
				o->stats.sent++;
			else
				o->stats.failed++;
		} else {
			struct outbound_result r = { 0 };
			time_t now = time(NULL);
			bool skip;

			pthread_mutex_lock(&o->lock);
			skip = now < o->backoff_until;
			pthread_mutex_unlock(&o->lock);
			if (skip) {
				r.action_id = j.action_id;
				r.status = -EAGAIN;
				snprintf(r.text, sizeof(r.text), "explainer skipped: backing off after a failure");
			} else {
				explain(o, &j, &r);
			}
			pthread_mutex_lock(&o->lock);
			if (skip) {
				o->stats.skipped_backoff++;
			} else if (r.status) {
				o->stats.failed++;
				o->backoff_s = o->backoff_s ? (o->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : o->backoff_s * 2)
							    : BACKOFF_MIN_S;
				o->backoff_until = time(NULL) + o->backoff_s;
			} else {
				o->stats.sent++;
				o->backoff_s = 0;
			}
			if (o->nresults < RESULTS_MAX)
				o->results[o->nresults++] = r;
			else
				o->stats.dropped++;
		}
		free(j.body);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* The API key: one line of a file only its owner may read (lib/secret.h). */
static char *read_key(const char *path, char *err, size_t errlen)
{
	char key[1024] = "", why[400];
	ssize_t n = secret_file__read(path, key, sizeof(key), why, sizeof(why));

	if (n < 0) {
		snprintf(err, errlen, "llm.key_file: %s", why);
		return NULL;
	}
	key[strcspn(key, "\r\n")] = '\0';
	if (!key[0]) {
		snprintf(err, errlen, "llm.key_file %s is empty", path);
		return NULL;
	}
	return strdup(key);
}

int outbound__start(const struct policy *p, struct outbound **ret, char *err, size_t errlen)
{
	struct outbound *o = calloc(1, sizeof(*o));
	sigset_t all, old;
	int rc;

	if (!o)
		return -ENOMEM;
	o->timeout_ms = p->llm.timeout_ns / 1000000;
	if (p->webhook && !(o->webhook = strdup(p->webhook))) {
		outbound__stop(o);
		return -ENOMEM;
	}
	if (p->llm.url) {
		o->url = strdup(p->llm.url);
		o->model = strdup(p->llm.model);
		if (!o->url || !o->model) {
			outbound__stop(o);
			return -ENOMEM;
		}
		if (p->llm.key_file && !(o->key = read_key(p->llm.key_file, err, errlen))) {
			outbound__stop(o);
			return -EINVAL;
		}
	}
	if ((rc = load_curl(err, errlen))) {
		outbound__stop(o);
		return rc;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->work, NULL);
	/* The collector reads signals through a signalfd: keep them away from here. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&o->thread, NULL, worker, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		o->thread = 0;
		outbound__stop(o);      /* frees the copies, wipes the key */
		return -rc;
	}
	*ret = o;
	return 0;
}

static int enqueue(struct outbound *o, enum job_kind kind, uint64_t id, const char *body)
{
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	if (o->nqueue == QUEUE_MAX) {
		o->stats.dropped++;
		rc = -EAGAIN;
	} else {
		o->queue[o->nqueue++] = (struct job){ kind, id, strdup(body) };
		pthread_cond_signal(&o->work);
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

int outbound__notify(struct outbound *o, const char *json)
{
	if (!o || !o->webhook)
		return -ENOTSUP;
	return enqueue(o, JOB_NOTIFY, 0, json);
}

int outbound__explain(struct outbound *o, uint64_t action_id, const char *evidence_json)
{
	if (!o || !o->url)
		return -ENOTSUP;
	return enqueue(o, JOB_EXPLAIN, action_id, evidence_json);
}

size_t outbound__take(struct outbound *o, struct outbound_result *out, size_t max)
{
	size_t n;

	if (!o)
		return 0;
	pthread_mutex_lock(&o->lock);
	n = o->nresults < max ? o->nresults : max;
	memcpy(out, o->results, n * sizeof(*out));
	memmove(&o->results[0], &o->results[n], (o->nresults - n) * sizeof(*out));
	o->nresults -= n;
	pthread_mutex_unlock(&o->lock);
	return n;
}

void outbound__stats(struct outbound *o, struct outbound_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	*ret = o->stats;
	pthread_mutex_unlock(&o->lock);
}

struct outbound *outbound__stop(struct outbound *o)
{
	if (!o)
		return NULL;
	if (o->thread) {
		pthread_mutex_lock(&o->lock);
		o->stop = true;
		pthread_cond_signal(&o->work);
		pthread_mutex_unlock(&o->lock);
		pthread_join(o->thread, NULL);
	}
	for (size_t i = 0; i < o->nqueue; i++)
		free(o->queue[i].body);
	if (o->key)
		memset(o->key, 0, strlen(o->key));
	free(o->key);
	free(o->webhook);
	free(o->url);
	free(o->model);
	free(o);
	return NULL;
}
