#!/usr/bin/env bash
# Smoke test of the sync-test peers: auth-server.mjs (oauth2-mock-server) + fhir-server.mjs
# (Medplum FhirRouter). Starts both on random loopback ports, runs a full SMART standalone
# patient flow with curl + openssl, checks the admin logs, stops both. Exit 0 only if every
# check passes.
#
# Test data: $SMOKE_DATA (NDJSON or Bundle) if set; else `$TECHO_GEN --seed 1 --persons 1
# --resources 300` if TECHO_GEN names a techo-gen binary; else a small synthetic record made here.
# Never prints tokens or resource contents.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/techo-peers-smoke.XXXXXX")
PIDS=()
CHECKS=0

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAIL: $*" >&2
  for f in "$WORK"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}
ok() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

for tool in node curl openssl; do
  command -v "$tool" >/dev/null || fail "$tool not found"
done
[ -d "$HERE/node_modules" ] || fail "run 'npm ci' in $HERE first"

# jget EXPR: print a field of the JSON on stdin, e.g. jget '.total' or jget '.entry.length'.
jget() {
  node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let v;
      try { v = new Function("j", "return j" + process.argv[1])(JSON.parse(s)); } catch { v = undefined; }
      process.stdout.write(v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
    });' "$1"
}
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# start NAME CMD... : runs CMD in the background, waits for its LISTENING line, sets $URL.
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  local pid=$!
  for _ in $(seq 1 300); do
    if grep -q '^LISTENING ' "$WORK/$name.out"; then
      URL=$(sed -n 's/^LISTENING //p' "$WORK/$name.out")
      [ "$(wc -l <"$WORK/$name.out")" -eq 1 ] || fail "$name printed more than the LISTENING line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "$name exited before listening"
    sleep 0.1
  done
  fail "$name did not print LISTENING within 30 s"
}

# ---------------------------------------------------------------------------------------------
# Test data

DATA="$WORK/data.ndjson"
if [ -n "${SMOKE_DATA:-}" ]; then
  cp "$SMOKE_DATA" "$DATA"
elif [ -n "${TECHO_GEN:-}" ]; then
  "$TECHO_GEN" --seed 1 --persons 1 --resources 300 --format ndjson --out "$DATA" 2>/dev/null
else
  node -e '
    const pid = "smoke-patient-1", out = [];
    out.push({ resourceType: "Patient", id: pid, name: [{ family: "Smoke", given: ["Test"] }], gender: "female", birthDate: "1980-01-01" });
    out.push({ resourceType: "Organization", id: "smoke-org", identifier: [{ system: "urn:smoke", value: "org-1" }], name: "Smoke Hospital" });
    for (let i = 0; i < 240; i++) {
      out.push({ resourceType: "Observation", id: `smoke-obs-${i}`, status: "final",
        code: { coding: [{ system: "http://loinc.org", code: "8867-4" }] },
        subject: { reference: `Patient/${pid}` }, performer: [{ reference: "Organization?identifier=urn:smoke|org-1" }],
        effectiveDateTime: new Date(Date.UTC(2024, 0, 1) + i * 3600e3).toISOString(),
        valueQuantity: { value: 60 + (i % 30), unit: "/min", system: "http://unitsofmeasure.org", code: "/min" } });
    }
    for (let i = 0; i < 30; i++) out.push({ resourceType: "Condition", id: `smoke-cond-${i}`, subject: { reference: `Patient/${pid}` }, code: { text: "c" } });
    process.stdout.write(out.map((r) => JSON.stringify(r)).join("\n") + "\n");' >"$DATA"
fi
PATIENT=$(node -e '
  const fs = require("fs"), t = fs.readFileSync(process.argv[1], "utf8").trim();
  let rs; try { const b = JSON.parse(t); rs = b.resourceType === "Bundle" ? b.entry.map((e) => e.resource) : [b]; }
  catch { rs = t.split("\n").filter(Boolean).map((l) => JSON.parse(l)); }
  const p = rs.find((r) => r.resourceType === "Patient"); process.stdout.write(p ? p.id : "");' "$DATA")
[ -n "$PATIENT" ] || fail "test data has no Patient"
ok "test data ready ($(wc -l <"$DATA") lines)"

CLIENT=techo-smoke
REDIRECT=http://127.0.0.1:9/callback

# ---------------------------------------------------------------------------------------------
# Servers

start auth node "$HERE/auth-server.mjs" --port 0 --patient "$PATIENT" --client-id "$CLIENT" --access-ttl 300
ISS=$URL
ok "auth server listening at $ISS"
start fhir node --experimental-websocket "$HERE/fhir-server.mjs" --port 0 --issuer "$ISS" --load "$DATA"
BASE=$URL
case "$BASE" in http://127.0.0.1:*/fhir/R4) ;; *) fail "unexpected FHIR base $BASE" ;; esac
ORIGIN=${BASE%/fhir/R4}
ok "FHIR server listening at $BASE"

# ---------------------------------------------------------------------------------------------
# Discovery (no token needed)

META=$(curl -sf "$BASE/metadata") || fail "GET /metadata"
[ "$(jget '.fhirVersion' <<<"$META")" = 4.0.1 ] || fail "metadata fhirVersion"
[ "$(jget '.rest[0].security.extension[0].extension.find(e=>e.url==="authorize").valueUri' <<<"$META")" = "$ISS/authorize" ] ||
  fail "metadata oauth-uris authorize"
[ "$(jget '.rest[0].resource.find(r=>r.type==="Observation").searchParam.map(p=>p.name).join()' <<<"$META")" = \
  "patient,_id,_lastUpdated,_count,_offset" ] || fail "metadata Observation searchParams"
ok "GET /metadata: R4, oauth-uris, search params"

SMART=$(curl -sf "$BASE/.well-known/smart-configuration") || fail "GET smart-configuration"
[ "$(jget '.token_endpoint' <<<"$SMART")" = "$ISS/token" ] || fail "smart token_endpoint"
[ "$(jget '.code_challenge_methods_supported.join()' <<<"$SMART")" = S256 ] || fail "smart S256"
[ "$(jget '.capabilities.includes("permission-offline")' <<<"$SMART")" = true ] || fail "smart capabilities"
ok "GET /.well-known/smart-configuration"

HDRS=$(curl -s -D - -o "$WORK/body" "$BASE/Observation?patient=$PATIENT")
grep -q '^HTTP/1.1 401' <<<"$HDRS" || fail "search without token should be 401"
grep -qi '^WWW-Authenticate: Bearer error="invalid_token"' <<<"$HDRS" || fail "WWW-Authenticate header"
[ "$(jget '.resourceType' <"$WORK/body")" = OperationOutcome ] || fail "401 body is not an OperationOutcome"
ok "search without a token: 401 + WWW-Authenticate + OperationOutcome"

# ---------------------------------------------------------------------------------------------
# Authorization code + PKCE

VERIFIER=$(openssl rand 48 | b64url | cut -c1-64)
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
SCOPE='launch/patient patient/*.read openid fhirUser offline_access'

# authorize [extra curl args...]: prints "<status> <Location>"
authorize() {
  curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -G "$ISS/authorize" \
    --data-urlencode response_type=code --data-urlencode "client_id=$CLIENT" \
    --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "scope=$SCOPE" \
    --data-urlencode state=st-123 --data-urlencode "aud=$BASE" "$@"
}
qparam() { node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"; }
token() { curl -s -w '\n%{http_code}' -X POST "$ISS/token" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

read -r ST LOC <<<"$(authorize --data-urlencode code_challenge_method=plain --data-urlencode "code_challenge=$VERIFIER")"
[ "$ST" = 302 ] && [ "$(qparam "$LOC" error)" = invalid_request ] && [ "$(qparam "$LOC" state)" = st-123 ] ||
  fail "authorize with plain PKCE should redirect with error=invalid_request ($ST)"
read -r ST LOC <<<"$(authorize)"
[ "$ST" = 302 ] && [ "$(qparam "$LOC" error)" = invalid_request ] || fail "authorize without PKCE should be refused"
ok "authorize refuses missing or non-S256 PKCE"

ST=$(curl -s -o /dev/null -w '%{http_code}' -G "$ISS/authorize" --data-urlencode response_type=code \
  --data-urlencode client_id=someone-else --data-urlencode "redirect_uri=$REDIRECT" \
  --data-urlencode code_challenge_method=S256 --data-urlencode "code_challenge=$CHALLENGE")
[ "$ST" = 400 ] || fail "authorize with unknown client_id should be 400 ($ST)"
ok "authorize refuses an unknown client_id"

new_code() {
  read -r ST LOC <<<"$(authorize --data-urlencode code_challenge_method=S256 --data-urlencode "code_challenge=$CHALLENGE")"
  [ "$ST" = 302 ] || fail "authorize: status $ST"
  [ "$(qparam "$LOC" state)" = st-123 ] || fail "authorize: state not echoed"
  case "$LOC" in "$REDIRECT"*) ;; *) fail "authorize: redirect not to redirect_uri" ;; esac
  CODE=$(qparam "$LOC" code)
  [ -n "$CODE" ] || fail "authorize: no code"
}
code_grant() { # code verifier
  token --data-urlencode grant_type=authorization_code --data-urlencode "code=$1" \
    --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "client_id=$CLIENT" --data-urlencode "code_verifier=$2"
}

new_code
ok "authorize auto-approves: 302 to redirect_uri with code and state"
R=$(code_grant "$CODE" "$(openssl rand 48 | b64url | cut -c1-64)")
[ "$(status_of "$R")" = 400 ] && [ "$(body_of "$R" | jget .error)" = invalid_grant ] || fail "wrong code_verifier accepted"
R=$(code_grant "$CODE" "$VERIFIER")
[ "$(status_of "$R")" = 400 ] || fail "a code must not survive a failed redemption"
ok "token: wrong code_verifier rejected (invalid_grant) and the code is spent"

new_code
R=$(token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode redirect_uri=http://127.0.0.1:9/other --data-urlencode "client_id=$CLIENT" --data-urlencode "code_verifier=$VERIFIER")
[ "$(status_of "$R")" = 400 ] || fail "token with a different redirect_uri accepted"
ok "token: redirect_uri must match"

new_code
R=$(code_grant "$CODE" "$VERIFIER")
[ "$(status_of "$R")" = 200 ] || fail "token exchange: $(body_of "$R" | jget .error_description)"
TOK=$(body_of "$R")
ACCESS=$(jget .access_token <<<"$TOK")
REFRESH=$(jget .refresh_token <<<"$TOK")
[ -n "$ACCESS" ] && [ -n "$REFRESH" ] || fail "token response lacks access_token/refresh_token"
[ "$(jget .token_type <<<"$TOK")" = Bearer ] || fail "token_type"
[ "$(jget .patient <<<"$TOK")" = "$PATIENT" ] || fail "patient in token response"
[ "$(jget .expires_in <<<"$TOK")" = 300 ] || fail "expires_in"
[ "$(jget .scope <<<"$TOK")" = "$SCOPE" ] || fail "scope"
EXP=$(cut -d. -f2 <<<"$ACCESS" | tr '_-' '/+' | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const p = JSON.parse(Buffer.from(s.trim(), "base64").toString()); process.stdout.write(String(p.exp - p.iat)); });')
[ "$EXP" = 300 ] || fail "access token exp-iat is $EXP, want 300"
ok "token: access_token (exp = now + ttl), refresh_token, patient, scope"
R=$(code_grant "$CODE" "$VERIFIER")
[ "$(status_of "$R")" = 400 ] || fail "authorization code reused"
ok "token: authorization code is single-use"

# ---------------------------------------------------------------------------------------------
# FHIR with the bearer token

AUTH=(-H "Authorization: Bearer $ACCESS")
curl -sf -X POST "$ORIGIN/__admin/log/clear" >/dev/null || fail "fhir log clear"
URL="$BASE/Observation?patient=$PATIENT&_count=50"
SEEN=0
PAGES=0
TOTAL=
while [ -n "$URL" ]; do
  case "$URL" in "$BASE"/*) ;; *) fail "next link not absolute on the same origin" ;; esac
  curl -sf "${AUTH[@]}" "$URL" >"$WORK/page" || fail "search page $PAGES"
  [ "$(jget .type <"$WORK/page")" = searchset ] || fail "not a searchset"
  TOTAL=$(jget .total <"$WORK/page")
  N=$(jget '.entry ? j.entry.length : 0' <"$WORK/page")
  SEEN=$((SEEN + N))
  PAGES=$((PAGES + 1))
  URL=$(jget '.link.find(l=>l.relation==="next")?.url' <"$WORK/page")
  [ "$PAGES" -lt 1000 ] || fail "paging does not end"
done
[ "$TOTAL" -gt 50 ] || fail "expected more than one page of Observations (total $TOTAL)"
[ "$SEEN" = "$TOTAL" ] || fail "paged $SEEN of $TOTAL"
ok "search with bearer token: $TOTAL Observations in $PAGES pages via absolute next links"

curl -sf "${AUTH[@]}" "$BASE/Patient?_id=$PATIENT" >"$WORK/p" || fail "Patient?_id"
[ "$(jget .total <"$WORK/p")" = 1 ] || fail "Patient?_id total"
curl -sf "${AUTH[@]}" "$BASE/Patient/$PATIENT" >"$WORK/p" || fail "read Patient"
MAXLU=$(curl -sf "${AUTH[@]}" "$BASE/Observation?patient=Patient/$PATIENT&_sort=-_lastUpdated&_count=1" | jget '.entry[0].resource.meta.lastUpdated')
N=$(curl -sf "${AUTH[@]}" -G "$BASE/Observation" --data-urlencode "patient=$PATIENT" --data-urlencode "_lastUpdated=gt$MAXLU" | jget .total)
[ "$N" = 0 ] || fail "_lastUpdated=gt<newest> should be empty, got $N"
ok "Patient?_id, read, _sort=-_lastUpdated, _lastUpdated=gt"

# edit one resource: new versionId and a later lastUpdated
curl -sf "${AUTH[@]}" "$BASE/Observation?patient=$PATIENT&_count=1" | jget '.entry[0].resource' >"$WORK/obs"
OID=$(jget .id <"$WORK/obs")
OLDV=$(jget .meta.versionId <"$WORK/obs")
node -e 'const fs=require("fs"); const r=JSON.parse(fs.readFileSync(process.argv[1])); r.status="amended"; fs.writeFileSync(process.argv[1], JSON.stringify(r));' "$WORK/obs"
curl -sf "${AUTH[@]}" -X PUT -H 'Content-Type: application/fhir+json' --data-binary @"$WORK/obs" "$BASE/Observation/$OID" >"$WORK/put" ||
  fail "PUT Observation"
NEWV=$(jget .meta.versionId <"$WORK/put")
NEWLU=$(jget .meta.lastUpdated <"$WORK/put")
[ -n "$NEWV" ] && [ "$NEWV" != "$OLDV" ] || fail "PUT did not give a new versionId"
[[ "$NEWLU" > "$MAXLU" ]] || fail "PUT did not give a later lastUpdated"
curl -sf "${AUTH[@]}" -G "$BASE/Observation" --data-urlencode "patient=$PATIENT" --data-urlencode "_lastUpdated=gt$MAXLU" >"$WORK/inc"
[ "$(jget .total <"$WORK/inc")" = 1 ] && [ "$(jget '.entry[0].resource.id' <"$WORK/inc")" = "$OID" ] ||
  fail "incremental search does not return exactly the edited resource"
ok "PUT: new versionId, later lastUpdated; _lastUpdated=gt returns just that resource"

curl -sf "$ORIGIN/__admin/log" >"$WORK/log" || fail "GET fhir /__admin/log"
[ "$(jget '.filter(e=>e.path==="/fhir/R4/Observation"&&e.method==="GET"&&/_count=50/.test(e.query)).reduce((a,e)=>a+e.resources,0)' <"$WORK/log")" = "$TOTAL" ] ||
  fail "FHIR log: paged resources do not add up"
[ "$(jget '.find(e=>e.path==="/fhir/R4/Patient/'"$PATIENT"'").resources' <"$WORK/log")" = 1 ] || fail "FHIR log: read counts 1"
[ "$(jget '.find(e=>e.method==="PUT").status' <"$WORK/log")" = 200 ] || fail "FHIR log: PUT status"
curl -sf -X POST "$ORIGIN/__admin/log/clear" >/dev/null
curl -sf "${AUTH[@]}" -G "$BASE/Observation" --data-urlencode "patient=$PATIENT" --data-urlencode "_lastUpdated=gt$NEWLU" >/dev/null
[ "$(curl -sf "$ORIGIN/__admin/log" | jget '.length + ":" + j.reduce((a,e)=>a+e.resources,0)')" = "1:0" ] ||
  fail "FHIR log after clear: want one request with 0 resources"
ok "FHIR admin log: per-request resource counts, clear"

# ---------------------------------------------------------------------------------------------
# Refresh: rotation and revocation

refresh_grant() { token --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$1" --data-urlencode "client_id=$CLIENT"; }
R=$(refresh_grant "$REFRESH")
[ "$(status_of "$R")" = 200 ] || fail "refresh: $(body_of "$R" | jget .error_description)"
ACCESS2=$(body_of "$R" | jget .access_token)
REFRESH2=$(body_of "$R" | jget .refresh_token)
[ -n "$ACCESS2" ] && [ -n "$REFRESH2" ] && [ "$REFRESH2" != "$REFRESH" ] || fail "refresh did not rotate"
[ "$(body_of "$R" | jget .patient)" = "$PATIENT" ] || fail "refresh response lacks patient"
curl -sf -H "Authorization: Bearer $ACCESS2" "$BASE/Patient/$PATIENT" >/dev/null || fail "refreshed access token refused"
R=$(refresh_grant "$REFRESH")
[ "$(status_of "$R")" = 400 ] && [ "$(body_of "$R" | jget .error)" = invalid_grant ] || fail "old refresh token still valid"
ok "refresh: new access token works, refresh token rotated, old one refused"

[ "$(curl -sf -X POST "$ISS/__admin/revoke" | jget .revoked)" -ge 1 ] || fail "admin revoke"
R=$(refresh_grant "$REFRESH2")
[ "$(status_of "$R")" = 400 ] && [ "$(body_of "$R" | jget .error)" = invalid_grant ] || fail "revoked refresh token accepted"
ok "POST /__admin/revoke invalidates refresh tokens"

curl -sf "$ISS/__admin/log" >"$WORK/alog" || fail "GET auth /__admin/log"
[ "$(jget '.filter(e=>e.grant_type==="authorization_code"&&e.ok).length' <"$WORK/alog")" = 1 ] || fail "auth log: code grants"
[ "$(jget '.filter(e=>e.grant_type==="refresh_token").map(e=>e.ok).join()' <"$WORK/alog")" = "true,false,false" ] ||
  fail "auth log: refresh grants"
curl -sf -X POST "$ISS/__admin/log/clear" >/dev/null
[ "$(curl -sf "$ISS/__admin/log" | jget .length)" = 0 ] || fail "auth log clear"
ok "auth admin log: grant_type/ok per token request, clear"

# Test-only: the tokens issued so far (compared here, in env vars, never printed).
curl -sf "$ISS/__admin/issued" >"$WORK/issued" || fail "GET auth /__admin/issued"
[ "$(ACCESS2=$ACCESS2 REFRESH=$REFRESH REFRESH2=$REFRESH2 node -e '
  const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const e = process.env;
  process.stdout.write(String(j.access_tokens.includes(e.ACCESS2) && j.refresh_tokens.includes(e.REFRESH) && j.refresh_tokens.includes(e.REFRESH2)));
' <"$WORK/issued")" = true ] || fail "auth /__admin/issued lacks the tokens issued"
ok "auth /__admin/issued lists the issued tokens"

# ---------------------------------------------------------------------------------------------
# Expired and foreign tokens: a second pair with --access-ttl 1

start auth2 node "$HERE/auth-server.mjs" --port 0 --patient "$PATIENT" --access-ttl 1
ISS2=$URL
start fhir2 node --experimental-websocket "$HERE/fhir-server.mjs" --port 0 --issuer "$ISS2"
BASE2=$URL
CODE2=$(curl -s -o /dev/null -w '%{redirect_url}' -G "$ISS2/authorize" --data-urlencode response_type=code \
  --data-urlencode client_id=any --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode 'scope=launch/patient patient/*.read' \
  --data-urlencode code_challenge_method=S256 --data-urlencode "code_challenge=$CHALLENGE")
CODE2=$(qparam "$CODE2" code)
R=$(curl -s -w '\n%{http_code}' -X POST "$ISS2/token" --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE2" \
  --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode client_id=any --data-urlencode "code_verifier=$VERIFIER")
[ "$(status_of "$R")" = 200 ] || fail "second auth server token"
[ -z "$(body_of "$R" | jget .refresh_token)" ] || fail "refresh_token issued without offline_access"
SHORT=$(body_of "$R" | jget .access_token)
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SHORT" "$BASE2/metadata")" = 200 ] || fail "metadata"
ST=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SHORT" "$BASE/Patient?_id=$PATIENT")
[ "$ST" = 401 ] || fail "a token from another issuer was accepted ($ST)"
sleep 2.2
HDRS=$(curl -s -D - -o "$WORK/body" -H "Authorization: Bearer $SHORT" "$BASE2/Patient?_id=$PATIENT")
grep -q '^HTTP/1.1 401' <<<"$HDRS" || fail "expired token was accepted"
grep -qi '^WWW-Authenticate: Bearer error="invalid_token"' <<<"$HDRS" || fail "expired: WWW-Authenticate"
grep -q 'expired' "$WORK/body" || fail "expired: OperationOutcome does not say expired"
ok "no refresh token without offline_access; foreign-issuer token 401; expired token (--access-ttl 1) 401"

echo "smoke: all $CHECKS checks passed"
