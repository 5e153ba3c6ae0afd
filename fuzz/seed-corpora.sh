#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the project's own fixtures: the vendored FHIR R4 examples
# under 50 KB (tests/data/r4-subset), a small synthetic record from techo-gen (as NDJSON and
# as a Bundle), hand-made CSVs, and share links and packages for the fixed all-zero key the
# share_package target uses. Nothing here is real health data. Idempotent; run from anywhere:
#   bash fuzz/seed-corpora.sh && cargo +nightly fuzz run fhir_reader
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
c="$root/fuzz/corpus"
mkdir -p "$c"/{fhir_reader,share_package,share_summary,ips,vitals_csv}

# FHIR: the small vendored examples, and a synthetic record (one person, ~30 resources).
find "$root/tests/data/r4-subset" -name '*.json' -size -50k -exec cp {} "$c/fhir_reader/" \;
gen() { (cd "$root" && cargo run -q -p techo-gen --bin techo-gen -- --seed 7 --persons 1 --resources 30 "$@"); }
gen --format ndjson > "$c/fhir_reader/gen.ndjson"
gen --format bundle > "$c/fhir_reader/gen-bundle.json"
printf '{"resourceType":"Patient","id":"a"}\n{"resourceType":"Observation","id":"b","status":"final"}\n' > "$c/fhir_reader/two.ndjson"
printf '\xEF\xBB\xBF{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0b9a4c8e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"}},{"request":{"method":"DELETE","url":"Patient/x"}}]}' > "$c/fhir_reader/bom-transaction.json"
for f in "$c/fhir_reader"/*.json "$c/fhir_reader/gen-bundle.json"; do
    case "$(basename "$f")" in Bundle-*|gen-bundle.json) cp "$f" "$c/share_summary/"; cp "$f" "$c/ips/";; esac
done
cp "$c/fhir_reader/Patient-example.json" "$c/fhir_reader/Observation-decimal.json" "$c/share_summary/"

# Vitals CSVs: Japanese headers and era dates, semicolons with units in brackets, tabs.
printf '測定日,時刻,最高血圧(mmHg),最低血圧(mmHg),脈拍(回/分),体重(kg),体温(℃),メモ\n令和8年11月23日,7:30,128,82,70,65.2,36.5,朝食前\nR8/11/23,21:15,124,80,68,,,\n2026年11月24日,7時05分,130,84,72,65.0,,\nH30/1/5,午後8時,118,76,,,,\n' > "$c/vitals_csv/japanese.csv"
printf '\xEF\xBB\xBFDate;Time;Weight (lb);Temperature [°F];Height (in)\n2026-11-27;07:30;150;98.6;67\n' > "$c/vitals_csv/semicolons.csv"
printf '測定日時\t血糖値(mmol/L)\t空腹時血糖\t体温\t歩数\n2026-11-27 07:30:00\t7.8\t99\t99.5℉\t"8,532"\n2026-11-27T12:00:00+09:00\t\t5.5mmol/L\t36.6\t\n' > "$c/vitals_csv/tabs.tsv"
printf 'date,systolic,diastolic,pulse,spo2,steps\n2026-11-20 06:50,121,79,66,98,"12,001"\n2026-11-21T06:55:00+09:00,１２２,８０,－,97%%,0\n' > "$c/vitals_csv/english.csv"

# Share: links and packages for the all-zero key (AES-GCM via python3-cryptography when it is
# there; otherwise the JWE has a zero tag and only reaches the decryption's failure).
python3 - "$c/share_package" <<'PY'
import base64, hashlib, json, os, sys
out = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = bytes(32)
kid = b64(hashlib.sha256(b"techo-shl-kid\0" + key).digest()[:8])
def link(**extra):
    p = {"url": "https://fuzz.invalid/p", "key": b64(key), **extra, "v": 1}
    return "shlink:/" + b64(json.dumps(p, separators=(",", ":")).encode())
def jwe(plain, with_kid=True):
    h = {"alg": "dir", "enc": "A256GCM", "cty": "application/fhir+json"}
    if with_kid:
        h["kid"] = kid
    hb = b64(json.dumps(h, separators=(",", ":")).encode())
    iv = bytes(range(12))
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        ct = AESGCM(key).encrypt(iv, plain, hb.encode())
        body, tag = ct[:-16], ct[-16:]
    except ImportError:
        body, tag = plain, bytes(16)
    return f"{hb}..{b64(iv)}.{b64(body)}.{b64(tag)}"
plain = b'{"resourceType":"Bundle","type":"collection","entry":[]}'
env = {"v": 1, "kind": "techo-shl-passcode", "kid": kid, "kdf": {"alg": "argon2id", "m": 19456, "t": 2, "p": 1},
       "salt": b64(bytes(16)), "check": b64(bytes(16)), "jwe": jwe(plain)}
seeds = {
    "link": link(),
    "link-viewer": "https://viewer.invalid/#" + link(exp=1767225600.5, flag="LP", label="Fuzz"),
    "jwe": jwe(plain),
    "jwe-nokid": jwe(plain, with_kid=False),
    "envelope": json.dumps(env),
    "link-jwe": link(flag="U") + "\n" + jwe(plain),
    "link-envelope": link(flag="P") + "\n" + json.dumps(env),
}
for name, text in seeds.items():
    with open(os.path.join(out, name), "w") as f:
        f.write(text)
PY
echo "seeded: $(for t in "$c"/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
