/*
 * A Mosquitto 2.0 plugin for the tests of MQTT 5 enhanced authentication (test/integration/enhanced-auth.test.ts),
 * compiled by test/support/auth-plugin.ts. Two methods, through the plugin API's extended-auth events:
 *
 * - SCRAM-SHA-256 (RFC 5802, RFC 7677), the server's side, for one user: plugin_opt_username, plugin_opt_password,
 *   plugin_opt_iterations (default 4096). Salt and server nonce are random per exchange.
 * - "token": one step; the data is "<secret>:<expiry in Unix seconds>", accepted when the secret is
 *   plugin_opt_token_secret and the expiry has not passed.
 *
 * Both serve re-authentication (AUTH 0x19) as well. Each exchange's start and outcome is logged
 * ("auth-plugin: authentication SCRAM-SHA-256 for <id>", "... accepted" / "... refused: why"): the tests count
 * them. Anything else (another method) is left to Mosquitto, which answers 0x8C Bad authentication method.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define SLOTS 64
#define MAX_MSG 512

/* One client's SCRAM exchange under way, and whether it has authenticated (a new start is then a re-authentication). */
struct slot {
	const struct mosquitto *client;
	bool authenticated;
	char client_first_bare[MAX_MSG];
	char server_first[2 * MAX_MSG];
	char nonce[MAX_MSG];
	unsigned char salt[16];
};

static mosquitto_plugin_id_t *plugin_id;
static struct slot slots[SLOTS];
static char username[256];
static char password[256];
static char token_secret[256];
static int iterations = 4096;

static struct slot *find_slot(const struct mosquitto *client, bool create)
{
	struct slot *free_slot = NULL;
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].client == client) return &slots[i];
		if (!slots[i].client && !free_slot) free_slot = &slots[i];
	}
	if (!create || !free_slot) return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->client = client;
	return free_slot;
}

static void b64(const unsigned char *in, int len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, len);
}

/* The value of attribute `name` ("r", "p", ...) in a SCRAM message, copied into `out`; false when absent. */
static bool attribute(const char *msg, char name, char *out, size_t size)
{
	const char *p = msg;
	while (p && *p) {
		if (p[0] == name && p[1] == '=') {
			const char *end = strchr(p, ',');
			size_t n = end ? (size_t)(end - p - 2) : strlen(p + 2);
			if (n >= size) return false;
			memcpy(out, p + 2, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ',');
		if (p) p++;
	}
	return false;
}

/* Copies the event's data into a NUL-terminated string; false when it is too long or missing. */
static bool data_string(const struct mosquitto_evt_extended_auth *ed, char *out, size_t size)
{
	if (!ed->data_in || ed->data_in_len >= size) return false;
	memcpy(out, ed->data_in, ed->data_in_len);
	out[ed->data_in_len] = '\0';
	return true;
}

static int answer(struct mosquitto_evt_extended_auth *ed, const char *text, int rc)
{
	size_t n = strlen(text);
	ed->data_out = mosquitto_malloc(n);
	if (!ed->data_out) return MOSQ_ERR_NOMEM;
	memcpy(ed->data_out, text, n);
	ed->data_out_len = (uint16_t)n;
	return rc;
}

static int refuse(const char *kind, const char *method, const struct mosquitto *client, const char *why)
{
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "auth-plugin: %s %s for %s refused: %s", kind, method, mosquitto_client_id(client), why);
	return MOSQ_ERR_AUTH;
}

static int accept_exchange(struct slot *slot, const char *kind, const char *method, const struct mosquitto *client)
{
	slot->authenticated = true;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "auth-plugin: %s %s for %s accepted", kind, method, mosquitto_client_id(client));
	return MOSQ_ERR_SUCCESS;
}

static int token_start(struct mosquitto_evt_extended_auth *ed, struct slot *slot, const char *kind)
{
	char token[MAX_MSG];
	if (!data_string(ed, token, sizeof(token))) return refuse(kind, "token", ed->client, "no token");
	char *colon = strrchr(token, ':');
	if (!colon) return refuse(kind, "token", ed->client, "not <secret>:<expiry>");
	*colon = '\0';
	long long expiry = atoll(colon + 1);
	if (strcmp(token, token_secret) != 0) return refuse(kind, "token", ed->client, "wrong secret");
	if (expiry <= (long long)time(NULL)) return refuse(kind, "token", ed->client, "token expired");
	return accept_exchange(slot, kind, "token", ed->client);
}

static int scram_start(struct mosquitto_evt_extended_auth *ed, struct slot *slot, const char *kind)
{
	char first[MAX_MSG], user[256], client_nonce[200], salt64[64], snonce64[64];
	unsigned char snonce[18];
	if (!data_string(ed, first, sizeof(first)) || strncmp(first, "n,,", 3) != 0) {
		return refuse(kind, "SCRAM-SHA-256", ed->client, "not a client-first message without channel binding");
	}
	const char *bare = first + 3;
	if (!attribute(bare, 'n', user, sizeof(user)) || !attribute(bare, 'r', client_nonce, sizeof(client_nonce))) {
		return refuse(kind, "SCRAM-SHA-256", ed->client, "client-first message without n= or r=");
	}
	if (strcmp(user, username) != 0) return refuse(kind, "SCRAM-SHA-256", ed->client, "unknown user");
	if (RAND_bytes(slot->salt, sizeof(slot->salt)) != 1 || RAND_bytes(snonce, sizeof(snonce)) != 1) return MOSQ_ERR_UNKNOWN;
	b64(slot->salt, sizeof(slot->salt), salt64);
	b64(snonce, sizeof(snonce), snonce64);
	snprintf(slot->client_first_bare, sizeof(slot->client_first_bare), "%s", bare);
	snprintf(slot->nonce, sizeof(slot->nonce), "%s%s", client_nonce, snonce64);
	snprintf(slot->server_first, sizeof(slot->server_first), "r=%s,s=%s,i=%d", slot->nonce, salt64, iterations);
	return answer(ed, slot->server_first, MOSQ_ERR_AUTH_CONTINUE);
}

static int scram_continue(struct mosquitto_evt_extended_auth *ed, struct slot *slot, const char *kind)
{
	char final[MAX_MSG], nonce[MAX_MSG], proof64[128], without_proof[2 * MAX_MSG], auth_message[5 * MAX_MSG], out[128];
	unsigned char proof[64], salted[32], client_key[32], stored_key[32], signature[32], server_key[32], server_sig[32];
	unsigned int len = 0;
	if (!slot->nonce[0] || !data_string(ed, final, sizeof(final))) return refuse(kind, "SCRAM-SHA-256", ed->client, "no exchange under way");
	if (strncmp(final, "c=biws,", 7) != 0 || !attribute(final, 'r', nonce, sizeof(nonce)) || !attribute(final, 'p', proof64, sizeof(proof64))) {
		return refuse(kind, "SCRAM-SHA-256", ed->client, "not a client-final message");
	}
	if (strcmp(nonce, slot->nonce) != 0) return refuse(kind, "SCRAM-SHA-256", ed->client, "nonce mismatch");
	if (EVP_DecodeBlock(proof, (const unsigned char *)proof64, (int)strlen(proof64)) < 32) {
		return refuse(kind, "SCRAM-SHA-256", ed->client, "proof is not 32 bytes of base64");
	}
	snprintf(without_proof, sizeof(without_proof), "c=biws,r=%s", nonce);
	snprintf(auth_message, sizeof(auth_message), "%s,%s,%s", slot->client_first_bare, slot->server_first, without_proof);
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), slot->salt, sizeof(slot->salt), iterations, EVP_sha256(), 32, salted);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, client_key, &len);
	SHA256(client_key, 32, stored_key);
	HMAC(EVP_sha256(), stored_key, 32, (const unsigned char *)auth_message, strlen(auth_message), signature, &len);
	/* The proof is ClientKey XOR ClientSignature: XOR it back, and its hash must be the stored key. */
	unsigned char recovered[32], recovered_hash[32];
	for (int i = 0; i < 32; i++) recovered[i] = proof[i] ^ signature[i];
	SHA256(recovered, 32, recovered_hash);
	slot->nonce[0] = '\0';
	if (memcmp(recovered_hash, stored_key, 32) != 0) return refuse(kind, "SCRAM-SHA-256", ed->client, "wrong password");
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10, server_key, &len);
	HMAC(EVP_sha256(), server_key, 32, (const unsigned char *)auth_message, strlen(auth_message), server_sig, &len);
	char sig64[64];
	b64(server_sig, 32, sig64);
	snprintf(out, sizeof(out), "v=%s", sig64);
	accept_exchange(slot, kind, "SCRAM-SHA-256", ed->client);
	return answer(ed, out, MOSQ_ERR_SUCCESS);
}

static bool ours(const char *method)
{
	return method && (strcmp(method, "SCRAM-SHA-256") == 0 || strcmp(method, "token") == 0);
}

static int on_start(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)userdata;
	struct mosquitto_evt_extended_auth *ed = event_data;
	if (!ours(ed->auth_method)) return MOSQ_ERR_PLUGIN_DEFER;
	struct slot *slot = find_slot(ed->client, true);
	if (!slot) return MOSQ_ERR_NOMEM;
	const char *kind = slot->authenticated ? "re-authentication" : "authentication";
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "auth-plugin: %s %s for %s", kind, ed->auth_method, mosquitto_client_id(ed->client));
	if (strcmp(ed->auth_method, "token") == 0) return token_start(ed, slot, kind);
	return scram_start(ed, slot, kind);
}

static int on_continue(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)userdata;
	struct mosquitto_evt_extended_auth *ed = event_data;
	/* Mosquitto 2.0.11 leaves auth_method NULL in this event: the exchange under way says which method it is. */
	struct slot *slot = find_slot(ed->client, false);
	if (!slot || !slot->nonce[0]) return MOSQ_ERR_PLUGIN_DEFER;
	return scram_continue(ed, slot, slot->authenticated ? "re-authentication" : "authentication");
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)userdata;
	struct mosquitto_evt_disconnect *ed = event_data;
	struct slot *slot = find_slot(ed->client, false);
	if (slot) memset(slot, 0, sizeof(*slot));
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	for (int i = 0; i < option_count; i++) {
		if (!strcmp(options[i].key, "username")) snprintf(username, sizeof(username), "%s", options[i].value);
		else if (!strcmp(options[i].key, "password")) snprintf(password, sizeof(password), "%s", options[i].value);
		else if (!strcmp(options[i].key, "token_secret")) snprintf(token_secret, sizeof(token_secret), "%s", options[i].value);
		else if (!strcmp(options[i].key, "iterations")) iterations = atoi(options[i].value);
	}
	if (!username[0] || !password[0] || !token_secret[0] || iterations <= 0) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "auth-plugin: needs plugin_opt_username, plugin_opt_password and plugin_opt_token_secret");
		return MOSQ_ERR_INVAL;
	}
	mosquitto_callback_register(plugin_id, MOSQ_EVT_EXT_AUTH_START, on_start, NULL, NULL);
	mosquitto_callback_register(plugin_id, MOSQ_EVT_EXT_AUTH_CONTINUE, on_continue, NULL, NULL);
	mosquitto_callback_register(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_EXT_AUTH_START, on_start, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_EXT_AUTH_CONTINUE, on_continue, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	return MOSQ_ERR_SUCCESS;
}
