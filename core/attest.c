/* kaieval attest, and the attestation half of verify: an in-toto Statement
 * (v1) over an archive's files, in a DSSE envelope signed with Ed25519 or
 * ECDSA P-256 keys through OpenSSL's EVP interface.  The statement is built
 * from the archive's files alone, so every signer signs the same bytes. */
#include "attest.h"
#include "audit.h"
#include "input.h"
#include "jsondoc.h"
#include "jsonw.h"
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PAYLOAD_TYPE "application/vnd.in-toto+json"

/* --- the statement ------------------------------------------------------------- */

/* Any parsed JSON value through the fixed-layout writer. */
static void write_value(struct kv_jw *w, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		kv_jw_begin_object(w);
		for (const cJSON *m = v->child; m; m = m->next) {
			kv_jw_key(w, m->string);
			write_value(w, m);
		}
		kv_jw_end_object(w);
	} else if (cJSON_IsArray(v)) {
		kv_jw_begin_array(w);
		for (const cJSON *m = v->child; m; m = m->next)
			write_value(w, m);
		kv_jw_end_array(w);
	} else if (cJSON_IsString(v)) {
		kv_jw_string(w, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		double x = v->valuedouble;
		if (x == floor(x) && fabs(x) < 9007199254740992.0)
			kv_jw_integer(w, (long long)x);
		else
			kv_jw_number(w, x);
	} else if (cJSON_IsBool(v)) {
		kv_jw_bool(w, cJSON_IsTrue(v));
	} else {
		kv_jw_null(w);
	}
}

static void one_subject(struct kv_jw *w, const char *name, const char *sha)
{
	kv_jw_begin_object(w);
	kv_jw_key(w, "name"); kv_jw_string(w, name);
	kv_jw_key(w, "digest");
	kv_jw_begin_object(w);
	kv_jw_key(w, "sha256"); kv_jw_string(w, sha);
	kv_jw_end_object(w);
	kv_jw_end_object(w);
}

static void subject(struct kv_jw *w, const cJSON *entry)
{
	one_subject(w, kv_json_str(entry, "path"), kv_json_str(entry, "sha256"));
}

/* Files an auditor may add to an archive after it was made: the report
 * (`kaieval report DIR -o DIR/report.html`) and the robustness file
 * (`kaieval robustness DIR -o DIR/robustness.json`).  Attested when present. */
struct extras {
	char report_sha[65], robustness_sha[65];
	cJSON *robustness;        /* parsed, or NULL when absent */
};

static int extras_load(const char *dir, struct extras *x, struct kv_error *err)
{
	memset(x, 0, sizeof *x);
	char *report = kv_xasprintf("%s/report.html", dir), *rob = kv_xasprintf("%s/robustness.json", dir);
	if (kv_sha256_file(report, x->report_sha, NULL) != 0)
		x->report_sha[0] = '\0';
	if (kv_sha256_file(rob, x->robustness_sha, NULL) != 0)
		x->robustness_sha[0] = '\0';
	else if (!(x->robustness = kv_json_load(rob, err)))
		x->robustness_sha[0] = '\0'; /* err says what is wrong with it */
	free(report);
	free(rob);
	return err->status;
}

/* The robustness file in the predicate: its settings and how sure the
 * round's decisions are (null when the archive has none). */
static void write_robustness(struct kv_jw *w, const struct extras *x)
{
	kv_jw_key(w, "robustness");
	if (!x || !x->robustness) {
		kv_jw_null(w);
		return;
	}
	kv_jw_begin_object(w);
	static const char *const keys[] = {"replicates", "seed", "p_same_decision"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		kv_jw_key(w, keys[i]);
		write_value(w, cJSON_GetObjectItemCaseSensitive(x->robustness, keys[i]));
	}
	kv_jw_end_object(w);
}

/* Every file the manifest names, the manifest itself and the extras. */
static void write_subjects(struct kv_jw *w, const cJSON *manifest, const char *manifest_sha,
			   const struct extras *x)
{
	kv_jw_key(w, "subject");
	kv_jw_begin_array(w);
	one_subject(w, "manifest.json", manifest_sha);
	subject(w, cJSON_GetObjectItemCaseSensitive(manifest, "result"));
	subject(w, cJSON_GetObjectItemCaseSensitive(manifest, "config"));
	const char *lists[] = {"inputs", "plugins"};
	for (size_t l = 0; l < 2; l++) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(manifest, lists[l]);
		for (const cJSON *e = list ? list->child : NULL; e; e = e->next)
			if (kv_json_str(e, "path") && kv_json_str(e, "sha256"))
				subject(w, e);
	}
	if (x->report_sha[0])
		one_subject(w, "report.html", x->report_sha);
	if (x->robustness_sha[0])
		one_subject(w, "robustness.json", x->robustness_sha);
	kv_jw_end_array(w);
}

static void write_decisions(struct kv_jw *w, const struct kv_record *rec)
{
	kv_jw_key(w, "decisions");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *t = &rec->teams[i];
		char *reason = kv_rec_reason(rec, t);
		kv_jw_begin_object(w);
		kv_jw_key(w, "team"); kv_jw_string(w, t->team.id);
		kv_jw_key(w, "rank");
		if (t->standing.rank)
			kv_jw_integer(w, t->standing.rank);
		else
			kv_jw_null(w);
		kv_jw_key(w, "status"); kv_jw_string(w, kv_status_name(t->standing.status));
		kv_jw_key(w, "reason"); kv_jw_string(w, reason);
		kv_jw_key(w, "total"); kv_jw_number(w, t->standing.total);
		kv_jw_end_object(w);
		free(reason);
	}
	kv_jw_end_array(w);
}

/* Copy the manifest's member key, when present (null when not). */
static void copy_member(struct kv_jw *w, const cJSON *manifest, const char *key)
{
	kv_jw_key(w, key);
	write_value(w, cJSON_GetObjectItemCaseSensitive(manifest, key));
}

/* The plugins as a record alone names them (what the plugin said of the
 * round left out), with no file and no digest: the record has none. */
static void write_record_plugins(struct kv_jw *w, const cJSON *record)
{
	kv_jw_key(w, "plugins");
	kv_jw_begin_array(w);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(record, "plugins");
	for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
		kv_jw_begin_object(w);
		for (const cJSON *m = e->child; m; m = m->next)
			if (strcmp(m->string, "evidence") != 0 && strcmp(m->string, "warnings") != 0) {
				kv_jw_key(w, m->string);
				write_value(w, m);
			}
		kv_jw_key(w, "path"); kv_jw_null(w);
		kv_jw_key(w, "sha256"); kv_jw_null(w);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
}

/* manifest is NULL for a record attested alone (parsed as doc). */
static void write_predicate(struct kv_jw *w, const cJSON *manifest, const cJSON *doc, const struct kv_record *rec,
			    const struct extras *x)
{
	kv_jw_key(w, "predicate");
	kv_jw_begin_object(w);
	kv_jw_key(w, "round");
	kv_jw_begin_object(w);
	kv_jw_key(w, "id"); kv_jw_string(w, rec->round_id);
	kv_jw_key(w, "title"); kv_jw_string(w, rec->title);
	kv_jw_key(w, "date"); kv_jw_string(w, rec->date);
	kv_jw_key(w, "seed"); kv_jw_integer(w, rec->seed);
	kv_jw_end_object(w);
	kv_jw_key(w, "rules");
	kv_jw_begin_object(w);
	kv_jw_key(w, "path");
	kv_jw_string(w, manifest ? kv_json_str(cJSON_GetObjectItemCaseSensitive(manifest, "config"), "path")
				 : rec->config_path);
	kv_jw_key(w, "sha256"); kv_jw_string(w, rec->config_sha256);
	kv_jw_end_object(w);
	copy_member(w, manifest, "engine");
	if (manifest)
		copy_member(w, manifest, "plugins");
	else
		write_record_plugins(w, doc);
	copy_member(w, manifest, "isolation");
	write_robustness(w, x);
	write_decisions(w, rec);
	kv_jw_end_object(w);
}

static void write_statement(struct kv_jw *w, const cJSON *manifest, const cJSON *doc, const struct kv_record *rec,
			    const char *name, const char *sha, const struct extras *x)
{
	kv_jw_begin_object(w);
	kv_jw_key(w, "_type"); kv_jw_string(w, STATEMENT_TYPE);
	if (manifest) {
		write_subjects(w, manifest, sha, x);
	} else {
		kv_jw_key(w, "subject");
		kv_jw_begin_array(w);
		one_subject(w, name, sha);
		kv_jw_end_array(w);
	}
	kv_jw_key(w, "predicateType"); kv_jw_string(w, KV_PREDICATE_TYPE);
	write_predicate(w, manifest, doc, rec, manifest ? x : NULL);
	kv_jw_end_object(w);
}

/* The statement over an archive folder (every file it holds) or over a
 * record alone, as the bytes every signer signs; *base gets the folder
 * the subjects' names are relative to (caller frees). */
static int build_statement(const char *target, struct kv_buf *out, char **base, struct kv_error *err)
{
	struct stat st;
	int archive = stat(target, &st) == 0 && S_ISDIR(st.st_mode);
	char *mpath = archive ? kv_xasprintf("%s/manifest.json", target) : NULL;
	char *rpath = archive ? kv_xasprintf("%s/result.json", target) : kv_xstrdup(target);
	const char *slash = strrchr(rpath, '/');
	char sha[65];
	cJSON *manifest = archive ? kv_json_load(mpath, err) : NULL;
	cJSON *doc = err->status ? NULL : kv_json_load(rpath, err);
	struct kv_record *rec = doc ? kv_record_from_json(doc, rpath, err) : NULL;
	struct extras x = {0};
	if (rec && archive)
		extras_load(target, &x, err);
	int rc = err->status;
	if (rec && kv_sha256_file(archive ? mpath : rpath, sha, NULL) != 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: cannot read: %s", archive ? mpath : rpath, kv_open_error(errno));
	if (rec && rc == 0) {
		struct kv_jw w = {0};
		write_statement(&w, manifest, doc, rec, slash ? slash + 1 : rpath, sha, &x);
		*out = w.out;
	}
	*base = archive ? kv_xstrdup(target) : slash ? kv_xasprintf("%.*s", (int)(slash - rpath), rpath) : kv_xstrdup(".");
	kv_record_free(rec);
	cJSON_Delete(x.robustness);
	cJSON_Delete(doc);
	cJSON_Delete(manifest);
	free(mpath);
	free(rpath);
	return rc;
}

/* --- DSSE ------------------------------------------------------------------------ */

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body */
static void pae(const char *type, const unsigned char *body, size_t len, struct kv_buf *out)
{
	kv_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	kv_buf_add(out, (const char *)body, len);
}

static char *base64(const unsigned char *data, size_t len)
{
	char *text = kv_xcalloc(4 * ((len + 2) / 3) + 1, 1);
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	return text;
}

/* Standard base64 with padding; -1 when text is not that. */
static long unbase64(const char *text, unsigned char **out)
{
	size_t n = strlen(text);
	*out = NULL;
	if (n % 4 != 0 || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return -1;
	*out = kv_xcalloc(n / 4 * 3 + 1, 1);
	int len = EVP_DecodeBlock(*out, (const unsigned char *)text, (int)n);
	if (len < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	/* DecodeBlock counts the padding as zero bytes. */
	for (size_t i = n; i > 0 && text[i - 1] == '='; i--)
		len--;
	return len;
}

/* A key's id: the SHA-256 of its public half (SubjectPublicKeyInfo, DER). */
static int key_id(EVP_PKEY *key, char hex[65])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return -1;
	kv_sha256_hex(der, (size_t)len, hex);
	OPENSSL_free(der);
	return 0;
}

/* Ed25519 signs the message itself; ECDSA P-256 its SHA-256 (DER signature). */
static const EVP_MD *key_digest(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static int key_type_ok(EVP_PKEY *key)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
		return 1;
	char curve[64];
	size_t len;
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	       EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &len) == 1 &&
	       strcmp(curve, "prime256v1") == 0;
}

static EVP_PKEY *read_key(const char *path, int private, struct kv_error *err)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (!f) {
		kv_fail(err, KV_EXIT_INPUT, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	/* A private key others can read is no longer the signer's alone. */
	if (private && fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		fprintf(stderr, "kaieval: warning: %s: the private key is readable by others (chmod 600 it)\n", path);
	EVP_PKEY *key = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!key)
		kv_fail(err, KV_EXIT_INPUT, "%s: not a PEM %s key", path, private ? "private" : "public");
	else if (!key_type_ok(key)) {
		kv_fail(err, KV_EXIT_INPUT, "%s: the key is neither Ed25519 nor ECDSA P-256", path);
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

static int sign(EVP_PKEY *key, const struct kv_buf *msg, unsigned char **sig, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, key_digest(key), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, NULL, len, (const unsigned char *)msg->data, msg->len) == 1;
	*sig = ok ? kv_xcalloc(*len, 1) : NULL;
	ok = ok && EVP_DigestSign(ctx, *sig, len, (const unsigned char *)msg->data, msg->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int sig_verifies(EVP_PKEY *key, const struct kv_buf *msg, const unsigned char *sig, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, key_digest(key), NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, len, (const unsigned char *)msg->data, msg->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* --- the envelope ---------------------------------------------------------------- */

struct signature {
	char *keyid, *sig;
};

struct envelope {
	char *payload_type;
	unsigned char *payload;
	size_t payload_len;
	struct signature *sigs;
	size_t sig_count;
};

static void envelope_free(struct envelope *e)
{
	free(e->payload_type);
	free(e->payload);
	for (size_t i = 0; i < e->sig_count; i++) {
		free(e->sigs[i].keyid);
		free(e->sigs[i].sig);
	}
	free(e->sigs);
	memset(e, 0, sizeof *e);
}

static void envelope_write(const struct envelope *e, struct kv_buf *out)
{
	struct kv_jw w = {0};
	char *payload = base64(e->payload, e->payload_len);
	kv_jw_begin_object(&w);
	kv_jw_key(&w, "payloadType"); kv_jw_string(&w, e->payload_type);
	kv_jw_key(&w, "payload"); kv_jw_string(&w, payload);
	kv_jw_key(&w, "signatures");
	kv_jw_begin_array(&w);
	for (size_t i = 0; i < e->sig_count; i++) {
		kv_jw_begin_object(&w);
		kv_jw_key(&w, "keyid"); kv_jw_string(&w, e->sigs[i].keyid);
		kv_jw_key(&w, "sig"); kv_jw_string(&w, e->sigs[i].sig);
		kv_jw_end_object(&w);
	}
	kv_jw_end_array(&w);
	kv_jw_end_object(&w);
	*out = w.out;
	free(payload);
}

/* Read an envelope file; a document that is not a DSSE envelope is bad input. */
static int envelope_read(const char *path, struct envelope *e, struct kv_error *err)
{
	memset(e, 0, sizeof *e);
	cJSON *doc = kv_json_load(path, err);
	if (!doc)
		return err->status;
	const char *type = kv_json_str(doc, "payloadType"), *payload = kv_json_str(doc, "payload");
	const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
	int rc = 0;
	long len = payload ? unbase64(payload, &e->payload) : -1;
	if (!type || !payload || !cJSON_IsArray(sigs))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: not a DSSE envelope (payloadType, payload and signatures)", path);
	else if (len < 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: payload is not base64", path);
	e->payload_type = kv_xstrdup(type ? type : "");
	e->payload_len = len < 0 ? 0 : (size_t)len;
	for (const cJSON *s = sigs ? sigs->child : NULL; rc == 0 && s; s = s->next) {
		const char *keyid = kv_json_str(s, "keyid"), *sig = kv_json_str(s, "sig");
		if (!sig) {
			rc = kv_fail(err, KV_EXIT_INPUT, "%s: signatures[%zu] has no sig", path, e->sig_count);
			break;
		}
		e->sigs = kv_xrealloc(e->sigs, (e->sig_count + 1) * sizeof *e->sigs);
		e->sigs[e->sig_count++] = (struct signature){kv_xstrdup(keyid ? keyid : ""), kv_xstrdup(sig)};
	}
	cJSON_Delete(doc);
	return rc;
}

/* --- kaieval attest -------------------------------------------------------------- */

static int add_signature(struct envelope *e, const char *key_path, FILE *out, struct kv_error *err)
{
	EVP_PKEY *key = read_key(key_path, 1, err);
	char id[65];
	if (!key || key_id(key, id) != 0) {
		EVP_PKEY_free(key);
		return err->status ? err->status : kv_fail(err, KV_EXIT_INPUT, "%s: unusable key", key_path);
	}
	for (size_t i = 0; i < e->sig_count; i++)
		if (strcmp(e->sigs[i].keyid, id) == 0) {
			fprintf(out, "already signed with key %s\n", id);
			EVP_PKEY_free(key);
			return 0;
		}
	struct kv_buf msg = {0};
	unsigned char *sig;
	size_t len;
	pae(e->payload_type, e->payload, e->payload_len, &msg);
	int rc = sign(key, &msg, &sig, &len);
	if (rc == 0) {
		e->sigs = kv_xrealloc(e->sigs, (e->sig_count + 1) * sizeof *e->sigs);
		e->sigs[e->sig_count++] = (struct signature){kv_xstrdup(id), base64(sig, len)};
		fprintf(out, "signed with key %s\n", id);
		free(sig);
	} else {
		rc = kv_fail(err, KV_EXIT_INTERNAL, "%s: signing failed", key_path);
	}
	kv_buf_free(&msg);
	EVP_PKEY_free(key);
	return rc;
}

/* The envelope to sign: the one already there (whose statement must be
 * this archive's, byte for byte), or a new one. */
static int envelope_for(const char *path, const struct kv_buf *statement, struct envelope *e, struct kv_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		*e = (struct envelope){.payload_type = kv_xstrdup(PAYLOAD_TYPE),
				       .payload = kv_xcalloc(statement->len + 1, 1), .payload_len = statement->len};
		memcpy(e->payload, statement->data, statement->len);
		return 0;
	}
	int rc = envelope_read(path, e, err);
	if (rc == 0 && (e->payload_len != statement->len || memcmp(e->payload, statement->data, statement->len) != 0 ||
			strcmp(e->payload_type, PAYLOAD_TYPE) != 0))
		rc = kv_fail(err, KV_EXIT_DIFF, "%s: attests other files than the archive now holds", path);
	return rc;
}

static size_t check_subjects(const char *dir, const cJSON *statement, int archive, struct kv_buf *problems);

/* Sign only what is there: every file the manifest names, as it names it. */
static int files_match(const char *dir, int archive, const struct kv_buf *statement, struct kv_error *err)
{
	struct kv_buf problems = {0};
	cJSON *doc = kv_json_parse(statement->data, statement->len, "statement", err);
	int rc = err->status;
	if (doc && check_subjects(dir, doc, archive, &problems))
		rc = kv_fail(err, KV_EXIT_DIFF, "%s: not signed: %s\n%s", dir,
			     archive ? "the archive does not match its manifest" : "the record changed while read", problems.data);
	cJSON_Delete(doc);
	kv_buf_free(&problems);
	return rc;
}

int kv_attest(const char *dir, const char *const *keys, size_t key_count, const char *output, FILE *out)
{
	struct kv_error err = {0};
	struct kv_buf statement = {0}, bytes = {0};
	struct envelope e = {0};
	char *path = output ? kv_xstrdup(output) : kv_xasprintf("%s/" KV_ATTESTATION_FILE, dir), *base = NULL;
	struct stat st;
	int rc = 0;
	if (!output && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = kv_fail(&err, KV_EXIT_INPUT, "%s: not an archive folder; a record's attestation needs -o FILE", dir);
	if (rc == 0)
		rc = build_statement(dir, &statement, &base, &err);
	if (rc == 0)
		rc = files_match(base, stat(dir, &st) == 0 && S_ISDIR(st.st_mode), &statement, &err);
	if (rc == 0)
		rc = envelope_for(path, &statement, &e, &err);
	for (size_t k = 0; rc == 0 && k < key_count; k++)
		rc = add_signature(&e, keys[k], out, &err);
	if (rc == 0) {
		envelope_write(&e, &bytes);
		rc = kv_write_file_atomic(path, bytes.data, bytes.len, &err);
	}
	if (rc)
		kv_error_print(&err, stderr);
	else
		fprintf(out, "attestation: %s (%zu signature%s)\n", path, e.sig_count, e.sig_count == 1 ? "" : "s");
	envelope_free(&e);
	kv_buf_free(&statement);
	kv_buf_free(&bytes);
	free(base);
	free(path);
	return rc;
}

/* --- verify ----------------------------------------------------------------------- */

/* Each subject's digest against the file in dir; mismatches to problems.
 * An archive's statement must name its manifest, which names the rest. */
static size_t check_subjects(const char *dir, const cJSON *statement, int archive, struct kv_buf *problems)
{
	const cJSON *subjects = cJSON_GetObjectItemCaseSensitive(statement, "subject");
	size_t bad = 0, manifest = 0;
	for (const cJSON *s = subjects ? subjects->child : NULL; s; s = s->next) {
		const char *name = kv_json_str(s, "name");
		const char *want = kv_json_str(cJSON_GetObjectItemCaseSensitive(s, "digest"), "sha256");
		char hex[65];
		if (!name || !want || name[0] == '/' || strstr(name, "..")) {
			kv_buf_puts(problems, "attestation: a subject without a proper name and sha256 digest\n");
			bad++;
			continue;
		}
		manifest += strcmp(name, "manifest.json") == 0;
		char *full = kv_xasprintf("%s/%s", dir, name);
		if (kv_sha256_file(full, hex, NULL) != 0)
			kv_buf_printf(problems, "attestation: subject %s: missing from the archive\n", name), bad++;
		else if (strcmp(hex, want) != 0)
			kv_buf_printf(problems, "attestation: subject %s: SHA-256 differs from the attested digest\n", name), bad++;
		free(full);
	}
	if (archive && !manifest)
		kv_buf_puts(problems, "attestation: the archive's manifest.json is not among the subjects\n"), bad++;
	return bad;
}

/* How many of the public keys signed the envelope; a key that did not is
 * named in missing. */
static size_t count_signers(const struct envelope *e, const char *const *pubkeys, size_t n, struct kv_buf *missing,
			    struct kv_error *err)
{
	struct kv_buf msg = {0};
	size_t signers = 0;
	pae(e->payload_type, e->payload, e->payload_len, &msg);
	for (size_t k = 0; k < n; k++) {
		EVP_PKEY *key = read_key(pubkeys[k], 0, err);
		int good = 0;
		for (size_t i = 0; key && !good && i < e->sig_count; i++) {
			unsigned char *sig;
			long len = unbase64(e->sigs[i].sig, &sig);
			good = len > 0 && sig_verifies(key, &msg, sig, (size_t)len);
			free(sig);
		}
		if (key && !good)
			kv_buf_printf(missing, "attestation: no valid signature by the key in %s\n", pubkeys[k]);
		signers += good;
		EVP_PKEY_free(key);
	}
	kv_buf_free(&msg);
	return signers;
}

int kv_verify_attestation(const char *dir, const struct kv_attest_check *check, struct kv_buf *problems,
			  FILE *out, struct kv_error *err)
{
	char *path = kv_xasprintf("%s/" KV_ATTESTATION_FILE, dir);
	struct stat st;
	struct envelope e = {0};
	int rc = 0;
	if (stat(path, &st) != 0) {
		if (check->pubkey_count)
			kv_buf_printf(problems, "attestation: %s: missing, nothing is signed\n", KV_ATTESTATION_FILE);
		free(path);
		return 0;
	}
	if ((rc = envelope_read(path, &e, err)) != 0) {
		free(path);
		envelope_free(&e);
		return rc;
	}
	if (strcmp(e.payload_type, PAYLOAD_TYPE) != 0)
		kv_buf_printf(problems, "attestation: payloadType is '%s', not %s\n", e.payload_type, PAYLOAD_TYPE);
	struct kv_buf missing = {0};
	size_t signers = count_signers(&e, check->pubkeys, check->pubkey_count, &missing, err);
	size_t threshold = check->threshold ? check->threshold : check->pubkey_count;
	/* t of n: the keys that did not sign matter only below the threshold. */
	if (err->status == 0 && signers < threshold)
		kv_buf_printf(problems, "%sattestation: %zu of the keys given signed; the threshold is %zu\n",
			      missing.data, signers, threshold);
	kv_buf_free(&missing);
	struct kv_error perr = {0};
	cJSON *statement = kv_json_parse((const char *)e.payload, e.payload_len, path, &perr);
	if (!statement)
		kv_buf_printf(problems, "attestation: the payload is not a JSON statement: %s\n", perr.msg);
	else if (strcmp(kv_json_str(statement, "_type") ? kv_json_str(statement, "_type") : "", STATEMENT_TYPE) != 0 ||
		 strcmp(kv_json_str(statement, "predicateType") ? kv_json_str(statement, "predicateType") : "",
			KV_PREDICATE_TYPE) != 0)
		kv_buf_puts(problems, "attestation: the payload is not a kaieval evaluation statement\n");
	else
		check_subjects(dir, statement, 1, problems);
	if (err->status == 0)
		fprintf(out, "attestation: %zu signature%s, %zu by the keys given\n", e.sig_count,
			e.sig_count == 1 ? "" : "s", signers);
	cJSON_Delete(statement);
	envelope_free(&e);
	free(path);
	return err->status;
}
