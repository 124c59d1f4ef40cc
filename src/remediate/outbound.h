/* Outbound HTTP for the remediation agent, on its own thread so a slow
 * endpoint never stalls the collector: webhook notifications and the
 * optional LLM explainer (an OpenAI-compatible chat-completions endpoint:
 * hosted Gemini's OpenAI API, llama.cpp, Ollama ...).
 *
 * The explainer is advisory: its text is stored next to the decision and
 * never executed.  One attempt per request, a timeout on each, and after a
 * failure the explainer backs off (30 s doubling up to 15 min) instead of
 * retrying.  The API key is read once from key_file and never logged.
 */
#ifndef KS_OUTBOUND_H
#define KS_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define OUTBOUND_TEXT_MAX 2048

struct outbound;

struct outbound_result {
	uint64_t action_id;
	int status;                  /* 0: text is the model's answer; else -errno and text says why */
	char text[OUTBOUND_TEXT_MAX];
	double seconds;              /* round trip */
};

struct outbound_stats {
	uint64_t sent, failed, dropped, skipped_backoff;
};

/* Starts the worker.  Fails (with err) when the LLM key file cannot be read. */
int outbound__start(const struct policy *p, struct outbound **ret, char *err, size_t errlen);

/* Queues a webhook POST of json; -EAGAIN when the queue is full (counted). */
int outbound__notify(struct outbound *o, const char *json);

/* Queues a question to the LLM about action_id; -ENOTSUP without llm.url. */
int outbound__explain(struct outbound *o, uint64_t action_id, const char *evidence_json);

/* Moves finished LLM answers into out (non-blocking); returns how many. */
size_t outbound__take(struct outbound *o, struct outbound_result *out, size_t max);

void outbound__stats(struct outbound *o, struct outbound_stats *ret);

/* Waits for the request in progress (bounded by its timeout), drops the
 * rest, stops the thread.  NULL is fine; returns NULL. */
struct outbound *outbound__stop(struct outbound *o);

#endif
