#!/usr/bin/env bash
# Provide the official FHIR R4 examples (hl7.fhir.r4.examples@4.0.1, CC0-1.0) for the round-trip
# test (tests/it/roundtrip.rs) and print the folder that holds them.
#
#   1. ../shared/data/r4-examples (relative to the repo root) when it exists;
#   2. otherwise .cache/r4-examples/examples/ (gitignored), filled once from the npm package via
#      `npm pack`, keeping the same selection as the shared copy: every example except the
#      conformance/definition resources (StructureDefinition, ValueSet, CodeSystem, ...) and the
#      specification's definition Bundles (Bundle-profiles-*, Bundle-valuesets, ...).
#
# The test finds the folder through $TECHO_R4_EXAMPLES or those two places; when none exists it
# prints a skip message and only the vendored tests/data/r4-subset is checked.
# TECHO_R4_FORCE_DOWNLOAD=1 skips step 1 (to test the download path).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared/data/r4-examples"

if [[ "${TECHO_R4_FORCE_DOWNLOAD:-}" != 1 && -d "$shared" ]]; then
    (cd "$shared" && pwd)
    exit 0
fi

cache="$root/.cache/r4-examples"
out="$cache/examples"
if [[ -f "$out/.complete" ]]; then
    echo "$out"
    exit 0
fi

command -v npm >/dev/null || { echo "fetch-r4-examples: npm is needed to download the examples" >&2; exit 1; }
mkdir -p "$cache"
work="$(mktemp -d "$cache/tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack hl7.fhir.r4.examples@4.0.1 --silent >/dev/null)
tar -xzf "$work"/hl7.fhir.r4.examples-4.0.1.tgz -C "$work"

conformance='^(CapabilityStatement|CodeSystem|CompartmentDefinition|ConceptMap|EventDefinition|ExampleScenario|GraphDefinition|ImplementationGuide|MessageDefinition|NamingSystem|OperationDefinition|SearchParameter|StructureDefinition|StructureMap|TerminologyCapabilities|TestReport|TestScript|ValueSet)-'
definition_bundles='^Bundle-(conceptmaps|dataelements|extensions|externals|profiles-others|registry|resources|searchParams|terminologies|types|ussg-fht|v2-valuesets|v3-valuesets|valueset-expansions|valuesets)\.json$'

rm -rf "$out.new"
mkdir -p "$out.new"
n=0
for f in "$work"/package/*.json; do
    name="$(basename "$f")"
    [[ "$name" =~ ^[A-Z][A-Za-z]+-.+\.json$ ]] || continue     # package.json, ig-r4.json, .index.json
    [[ "$name" =~ $conformance ]] && continue
    [[ "$name" =~ $definition_bundles ]] && continue
    cp "$f" "$out.new/$name"
    n=$((n + 1))
done
cp "$work/package/package.json" "$out.new/.package.json"   # provenance + licence (CC0-1.0)
touch "$out.new/.complete"
rm -rf "$out"
mv "$out.new" "$out"
echo "fetch-r4-examples: $n examples in $out" >&2
echo "$out"
